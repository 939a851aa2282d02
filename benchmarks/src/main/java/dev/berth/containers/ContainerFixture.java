package dev.berth.containers;

import dev.berth.Berth;
import dev.berth.LocalConfig;
import dev.berth.core.ExitStatus;
import dev.berth.core.Namespaces;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Stdio;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import dev.berth.shims.v2.ShimV2Runtime;
import dev.berth.tasks.TaskManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * One Berth task service running busybox containers over a temporary directory with a rootfs, with either backend:
 * <ul>
 *   <li>{@link #open()}: {@link Berth#local} with the shim v2 runtime ({@code containerd-shim-runc-v2} + runc) in
 *       the {@value #NAMESPACE} namespace, over a private state directory. {@link #close()} leaves nothing behind:
 *       it closes the service, then kills any shim still carrying this state's address, force-deletes runc
 *       containers whose bundles remain, removes the directory, and with it runc's root ({@code <state>/.runc}).
 *   <li>{@link #containerd(Path)}: {@link Berth#containerd} over a containerd daemon's socket, in the
 *       {@value #CONTAINERD_NAMESPACE} namespace (runtime {@code io.containerd.runc.v2}, so the same shim and runc).
 *       {@link #close()} closes the service, which force-deletes the tasks it created, then removes the directory;
 *       what a killed run may leave in the daemon is the daemon's to clean up ({@code private-containerd.sh stop}).
 * </ul>
 */
final class ContainerFixture implements AutoCloseable {
    static final String NAMESPACE = "bench";
    static final String CONTAINERD_NAMESPACE = "bench-cd";
    /** The runtime containerd runs a TaskSpec's container with; the remote service accepts only this one. */
    private static final String CONTAINERD_RUNTIME = "io.containerd.runc.v2";
    private static final String SHIM = "containerd-shim-runc-v2";
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(60);

    private final String name;
    private final String namespace;
    private final String runtime;
    private final Path dir;
    /** The shim v2 runtime's state directory; null over containerd, whose daemon owns the state. */
    private final @Nullable Path state;
    private final Path rootfs;
    private final TaskService tasks;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ContainerFixture(String name, String namespace, String runtime, Path dir, @Nullable Path state,
            Path rootfs, TaskService tasks) {
        this.name = name;
        this.namespace = namespace;
        this.runtime = runtime;
        this.dir = dir;
        this.state = state;
        this.rootfs = rootfs;
        this.tasks = tasks;
    }

    /** A fresh temporary directory with a busybox rootfs and a state directory, and the service over it. */
    static ContainerFixture open() throws IOException {
        Path dir = Files.createTempDirectory("berth-bench-");
        try {
            Path rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
            Path state = Files.createDirectories(dir.resolve("state"));
            // -Dberth.bench.shimsPerNamespace=N tries another pool size (the default is the library's).
            int shims = Integer.getInteger("berth.bench.shimsPerNamespace", ShimV2Runtime.DEFAULT_SHIMS_PER_NAMESPACE);
            TaskManager tasks = Berth.local(LocalConfig.of(state).withDefaultRuntime(ShimV2Runtime.NAME)
                    .withShimPool(shims, ShimV2Runtime.DEFAULT_SHIM_LINGER));
            return new ContainerFixture("berth", NAMESPACE, ShimV2Runtime.NAME, dir,
                    state.toAbsolutePath().normalize(), rootfs, tasks);
        } catch (IOException | RuntimeException e) {
            deleteTree(dir);
            throw e;
        }
    }

    /**
     * A fresh temporary directory with a busybox rootfs, and {@link Berth#containerd} over the daemon listening on
     * {@code socket}. Nothing connects until the first lifecycle.
     */
    static ContainerFixture containerd(Path socket) throws IOException {
        Path dir = Files.createTempDirectory("berth-bench-cd-");
        try {
            Path rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
            TaskService tasks = Berth.containerd(socket);
            return new ContainerFixture("berth-cd", CONTAINERD_NAMESPACE, CONTAINERD_RUNTIME, dir, null,
                    rootfs.toAbsolutePath().normalize(), tasks);
        } catch (IOException | RuntimeException e) {
            deleteTree(dir);
            throw e;
        }
    }

    /** What result lines call this backend: {@code berth} (shim v2 runtime) or {@code berth-cd} (containerd). */
    String name() {
        return name;
    }

    Path rootfs() {
        return rootfs;
    }

    /** The spec of a container {@code id} running {@code args} in the fixture's rootfs. */
    TaskSpec spec(String id, Stdio stdio, String... args) {
        return TaskSpec.builder(id, ProcessSpec.builder(args).stdio(stdio).build())
                .runtime(runtime)
                .rootfs(rootfs)
                .build();
    }

    /**
     * One whole lifecycle as {@code ctr run --rm} does it: create, start, wait for the exit, delete. With piped
     * output both streams are read to their end before the delete, as {@code ctr} copies the FIFOs to its own stdio.
     *
     * @return the exit status; a failure of any step fails the Mono
     */
    Mono<ExitStatus> lifecycle(TaskSpec spec, @Nullable Phases phases) {
        return Mono.defer(() -> {
            long t0 = System.nanoTime();
            return tasks.create(spec).flatMap(task -> run(task, spec.process().stdio(), t0, phases));
        }).contextWrite(Namespaces.with(namespace));
    }

    private static Mono<ExitStatus> run(Task task, Stdio stdio, long t0, @Nullable Phases phases) {
        long created = System.nanoTime();
        long[] started = new long[1];
        Mono<ExitStatus> exit = task.exit();
        Mono<Void> drained = Mono.when(
                stdio.stdout().equals(Stdio.Output.PIPE) ? task.stdout().then() : Mono.empty(),
                stdio.stderr().equals(Stdio.Output.PIPE) ? task.stderr().then() : Mono.empty());
        return Mono.when(drained, task.start().doOnNext(pid -> started[0] = System.nanoTime()))
                .then(exit)
                .flatMap(status -> {
                    long exited = System.nanoTime();
                    return task.delete().then(Mono.fromSupplier(() -> {
                        if (phases != null) {
                            phases.add(t0, created, started[0], exited, System.nanoTime());
                        }
                        return status;
                    }));
                });
    }

    /**
     * Runs the container {@code spec} (stdout piped, stderr to /dev/null) to its end and counts its stdout bytes.
     *
     * @return the number of bytes the container wrote to stdout
     */
    Mono<Long> countStdout(TaskSpec spec) {
        return tasks.create(spec)
                .flatMap(task -> {
                    Mono<Long> counted = task.stdout().reduce(0L, (n, chunk) -> n + chunk.remaining());
                    Mono<ExitStatus> exit = task.exit();
                    return Mono.zip(counted, task.start())
                            .flatMap(t -> exit.then(task.delete()).thenReturn(t.getT1()));
                })
                .contextWrite(Namespaces.with(namespace));
    }

    /**
     * Closes the service, then removes whatever a failed run may have left (shims, runc state, the directory). Only
     * the first call does anything, so a shutdown hook and the normal path may both call it.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            tasks.close().block(CLOSE_TIMEOUT);
        } finally {
            try {
                if (state != null) {
                    cleanUpStrays(state);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                deleteTree(dir); // runc's root is <state>/.runc, inside it
            }
        }
    }

    private static void cleanUpStrays(Path state) throws IOException {
        for (ProcessHandle shim : shimsOf(state.toString())) {
            System.err.println("killing stray shim " + shim.pid());
            shim.destroyForcibly();
            shim.onExit().join();
        }
        Path bundles = state.resolve(NAMESPACE);
        if (!Files.isDirectory(bundles)) {
            return;
        }
        try (Stream<Path> left = Files.list(bundles)) {
            for (Path bundle : left.toList()) {
                System.err.println("removing stray container " + bundle.getFileName());
                Path address = bundle.resolve("address");
                if (Files.exists(address)) {
                    Files.deleteIfExists(Path.of(Files.readString(address).strip().replace("unix://", "")));
                }
                runQuietly("runc", "--root", state.resolve(".runc").resolve(NAMESPACE).toString(), "delete", "--force",
                        bundle.getFileName().toString());
            }
        }
    }

    /** Live shim processes whose command line holds {@code address}. */
    private static List<ProcessHandle> shimsOf(String address) throws IOException {
        List<ProcessHandle> found = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                List<String> argv;
                try {
                    argv = List.of(new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8)
                            .split("\0"));
                } catch (IOException e) {
                    continue; // exited meanwhile
                }
                if (!argv.isEmpty() && argv.get(0).endsWith(SHIM) && argv.contains(address)) {
                    ProcessHandle.of(Long.parseLong(proc.getFileName().toString())).ifPresent(found::add);
                }
            }
        }
        return found;
    }

    private static void runQuietly(String... command) throws IOException {
        try {
            new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start().waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Removes runc's root of the namespace when nothing is left in it; another user's containers keep it. */
    private static void removeIfEmpty(Path directory) {
        try {
            Files.deleteIfExists(directory);
        } catch (IOException e) {
            // not empty (DirectoryNotEmptyException) or not ours to remove: leave it
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("could not remove " + root + ": " + e);
        }
    }
}
