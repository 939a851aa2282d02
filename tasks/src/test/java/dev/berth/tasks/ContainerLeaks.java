package dev.berth.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.RuntimeSchedulers;
import dev.berth.shims.testing.ContainerTests;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;

/**
 * What container lifecycles of the shim v2 runtime may leave behind, in this JVM and on the host, counted once the
 * runtime is warm ({@link #baseline()}) and checked after ({@link #assertNothingLeft}): the JVM's descriptors,
 * threads and children (zombies included), the shims of the state directory, their sockets, the bundles and FIFOs
 * under the state directory, mounts under it and the runc state of the namespace.
 *
 * <p>Threads of two bounded pools are left out of the thread count and checked against their bounds instead: the
 * runtime's syscall pool ({@code <schedulers>-syscalls}, at most {@link RuntimeSchedulers#DEFAULT_SYSCALL_THREADS})
 * and the JDK's {@code process reaper} pool, which keeps one thread per live {@link ProcessBuilder} child and lets
 * it idle for a minute afterwards (the shim's {@code start} and {@code delete} actions are such children): it may
 * hold up to as many threads as there were children at once (about one per concurrent lifecycle), or as many as it
 * already had.
 */
final class ContainerLeaks {
    static final String REAPER_THREAD = "process reaper";

    private final Path state;
    private final String namespace;
    private final String poolPrefix;
    private final int concurrency;
    private long fds = -1;
    private long threads = -1;
    private long reapers = -1;

    /**
     * @param state the runtime's state directory
     * @param namespace the one namespace the lifecycles run in
     * @param schedulersName the name the runtime's schedulers were created with
     * @param concurrency how many JDK process reapers may be busy at once: one per lifecycle running at once
     */
    ContainerLeaks(Path state, String namespace, String schedulersName, int concurrency) {
        this.state = state.toAbsolutePath().normalize();
        this.namespace = namespace;
        this.poolPrefix = schedulersName + "-syscalls";
        this.concurrency = concurrency;
    }

    /** Counts descriptors and threads now; call it once the runtime is warm (a few whole lifecycles run). */
    void baseline() throws IOException {
        fds = openDescriptors();
        threads = threadsOutsideBoundedPools();
        reapers = threadsNamed(REAPER_THREAD);
    }

    /**
     * Checks that nothing of the lifecycles run since {@link #baseline()} is left; {@code sockets} are the shim
     * sockets they used. Every count is taken before the first check, so the checks cannot disturb them.
     */
    void assertNothingLeft(Collection<Path> sockets) throws IOException {
        assertThat(fds).as("baseline() was called").isNotNegative();
        // Threads first: the wait for the descriptors may start a Reactor timer thread.
        long threadsNow = threadsOutsideBoundedPools();
        long poolNow = threadsStartingWith(poolPrefix);
        long reapersNow = threadsNamed(REAPER_THREAD);
        long fdsNow = descriptorsOnceSettled();
        List<Long> children = TaskServiceBehaviour.childrenOfThisJvm();
        List<Long> shims = ContainerTests.shimsOf(state.toString()).stream().map(ProcessHandle::pid).toList();
        List<Path> socketsLeft = sockets.stream().filter(s -> Files.exists(s, LinkOption.NOFOLLOW_LINKS)).toList();
        List<Path> stateLeft = stateEntriesBeyondTheSkeleton();
        List<String> mounts = mountsUnderState();
        List<Path> runcLeft = runcState();
        List<Long> loggers = loggersOfTheNamespace();

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(fdsNow).as("open descriptors (baseline %d)", fds).isLessThanOrEqualTo(fds);
        soft.assertThat(threadsNow).as("threads outside the bounded pools (baseline %d)", threads)
                .isLessThanOrEqualTo(threads);
        soft.assertThat(poolNow).as("threads of %s", poolPrefix)
                .isLessThanOrEqualTo(RuntimeSchedulers.DEFAULT_SYSCALL_THREADS);
        // The JDK's reapers are a cached pool: a process started while a reaper is still finishing the previous
        // one's exit gets a new thread, so one more than the processes that can run at once may exist (idle for 60 s).
        soft.assertThat(reapersNow).as("JDK process reaper threads (baseline %d)", reapers)
                .isLessThanOrEqualTo(Math.max(reapers, concurrency) + 1);
        soft.assertThat(children).as("children of this JVM, zombies included").isEmpty();
        soft.assertThat(shims).as("shims of %s", state).isEmpty();
        soft.assertThat(socketsLeft).as("shim sockets").isEmpty();
        soft.assertThat(stateLeft).as("bundles, FIFOs or other files under %s", state).isEmpty();
        soft.assertThat(mounts).as("mounts under %s", state).isEmpty();
        soft.assertThat(runcLeft).as("runc state of namespace %s", namespace).isEmpty();
        soft.assertThat(loggers).as("shim-started loggers (stdio handoff sleepers) of namespace %s", namespace)
                .isEmpty();
        soft.assertAll();
    }

    /**
     * The open descriptors, once at most the baseline, or after {@link #SETTLE}: a daemon's events connection to
     * our events socket is closed by our server when it reads that daemon's EOF, which may come just after the
     * delete that saw the daemon gone. A leaked descriptor never comes back down, so the check still fails then.
     */
    private long descriptorsOnceSettled() {
        Long settled = reactor.core.publisher.Flux.interval(java.time.Duration.ZERO,
                        java.time.Duration.ofMillis(20))
                .map(i -> {
                    try {
                        return openDescriptors();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })
                .takeUntil(n -> n <= fds)
                .take(SETTLE)
                .blockLast();
        return settled == null ? -1 : settled;
    }

    /** How long {@link #descriptorsOnceSettled} waits at most. */
    static final java.time.Duration SETTLE = java.time.Duration.ofSeconds(5);

    /** The socket a shim listens on, from its bundle's {@code address} file. */
    static Path socketOf(Path bundle) throws IOException {
        return Path.of(Files.readString(bundle.resolve("address")).strip().replace("unix://", ""));
    }

    /**
     * Everything under the state directory but the directory itself, the namespace's directory, runc's (empty) root
     * for it, the (empty) directory of the namespace's shim homes and the owner's own
     * files at the top ({@code .lock}, {@code .events.sock}, whatever their names: files, never directories):
     * a bundle, a half-removed {@code .<id>} bundle, a FIFO, another directory, anything below the top is a leak.
     */
    private List<Path> stateEntriesBeyondTheSkeleton() throws IOException {
        if (!Files.exists(state)) {
            return List.of();
        }
        Path bundles = state.resolve(namespace);
        Path homes = state.resolve(".shims").resolve(namespace);
        try (Stream<Path> all = Files.walk(state)) {
            return all.filter(p -> !p.equals(state) && !p.equals(bundles) && !p.equals(runcRoot().getParent())
                            && !p.equals(runcRoot()) && !p.equals(homes) && !p.equals(homes.getParent())
                            && !p.equals(handoffScript().getParent()) && !p.equals(handoffScript())
                            && !p.equals(handoffScript().resolveSibling("hold")))
                    .filter(p -> !p.getParent().equals(state) || Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
                    .toList();
        }
    }

    /** Lines of this JVM's mount table whose mount point lies under the state directory. */
    private List<String> mountsUnderState() throws IOException {
        String prefix = state.toString();
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(line -> {
                    String[] fields = line.split(" ");
                    return fields.length > 4 && (fields[4].equals(prefix) || fields[4].startsWith(prefix + "/"));
                })
                .toList();
    }

    /** The stdio handoff's script, written once per state directory and kept (StdoutHandoff). */
    private Path handoffScript() {
        return state.resolve(".bin").resolve("stdio-handoff");
    }

    /**
     * The processes the shims started for the namespace: binary:// loggers (the stdio handoff's sleepers) get
     * {@code CONTAINER_NAMESPACE=<ns>} in their environment from the shim, which container processes do not.
     */
    private List<Long> loggersOfTheNamespace() {
        String marker = "CONTAINER_NAMESPACE=" + namespace;
        return ProcessHandle.allProcesses().map(ProcessHandle::pid).filter(pid -> {
            try {
                String env = Files.readString(Path.of("/proc", Long.toString(pid), "environ"),
                        java.nio.charset.StandardCharsets.ISO_8859_1);
                return List.of(env.split("\0")).contains(marker);
            } catch (IOException | java.io.UncheckedIOException e) {
                return false; // gone, or not ours to read
            }
        }).toList();
    }

    /** runc's root for the namespace: the shim v2 runtime gives runc {@code <state>/.runc}. */
    private Path runcRoot() {
        return state.resolve(".runc").resolve(namespace);
    }

    /** The containers runc still keeps state for in the namespace ({@code <state>/.runc/<ns>/<id>}). */
    private List<Path> runcState() throws IOException {
        Path root = runcRoot();
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> left = Files.list(root)) {
            return left.toList();
        }
    }

    static long openDescriptors() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    private long threadsOutsideBoundedPools() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !t.getName().startsWith(poolPrefix) && !t.getName().equals(REAPER_THREAD))
                .count();
    }

    private static long threadsStartingWith(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).count();
    }

    private static long threadsNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).count();
    }
}
