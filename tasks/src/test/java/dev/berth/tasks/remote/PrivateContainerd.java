package dev.berth.tasks.remote;

import static org.junit.jupiter.api.Assertions.fail;

import dev.berth.shims.testing.BusyboxRootfs;
import dev.berth.shims.testing.ContainerTests;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A containerd daemon of the test's own: {@code /usr/bin/containerd --config <dir>/config.toml} with its root, state,
 * gRPC, ttrpc and debug sockets all under a fresh directory in {@code /tmp} (short, so the socket paths stay far below
 * the 107-byte limit), the CRI plugin and the plugins needing what a test host lacks disabled.
 *
 * <p>Use it as a class extension ({@code @RegisterExtension static final PrivateContainerd containerd = new
 * PrivateContainerd("h7-x")}: the gate and start run before the class, {@link #stop()} after it) or call
 * {@link #start()} and {@link #stop()} yourself. The gate is {@link ContainerTests#requirePrerequisites} plus
 * {@code containerd} and {@code ctr}: under {@code CI=true} a missing one fails, elsewhere the class skips loudly.
 *
 * <p>{@link #stop()} leaves nothing behind: the daemon is stopped, the shims it started (found by its socket address
 * on their command line) are killed, their runc containers force-deleted and rootfs mounts unmounted, the cgroups
 * and runc state directories of its {@code h7-} namespaces removed, and the directory deleted.
 */
public final class PrivateContainerd implements BeforeAllCallback, AfterAllCallback {
    /** How long the daemon may take to answer a Version call after being started. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    /** How long one {@code ctr} invocation may take. */
    static final Duration CTR_TIMEOUT = Duration.ofSeconds(60);
    static final Path CONTAINERD = Path.of("/usr/bin/containerd");
    static final Path CTR = Path.of("/usr/bin/ctr");
    /** Where the runc shim keeps runc's state when the container's runtime options name no root. */
    static final Path RUNC_ROOT = Path.of("/run/containerd/runc");
    /** The plugins that want what a test host does not have, or write outside the daemon's directory. */
    static final List<String> DISABLED_PLUGINS = List.of(
            "io.containerd.grpc.v1.cri",
            "io.containerd.snapshotter.v1.btrfs",
            "io.containerd.snapshotter.v1.zfs",
            "io.containerd.snapshotter.v1.devmapper",
            "io.containerd.snapshotter.v1.aufs",
            "io.containerd.tracing.processor.v1.otlp",
            "io.containerd.internal.v1.tracing");

    private final String namespace;
    private Path dir;
    /** Not a child of this JVM (see {@link #launch()}): a ProcessHandle, which also signals and awaits non-children. */
    private ProcessHandle daemon;

    /** A daemon whose {@link #ctr} acts in {@code namespace} (use an {@code h7-} name: runc state is per host). */
    public PrivateContainerd(String namespace) {
        this.namespace = namespace;
    }

    /** The result of one {@code ctr} run: its exit code and its stdout and stderr, interleaved. */
    public record CtrResult(int exitCode, String output) {
        /** Whether ctr exited 0. */
        public boolean ok() {
            return exitCode == 0;
        }

        /** This result, or an AssertionError naming the command's output. */
        public CtrResult orFail(String what) {
            if (exitCode != 0) {
                throw new AssertionError(what + ": ctr exited " + exitCode + ": " + output);
            }
            return this;
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        requirePrerequisites(context.getDisplayName());
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        stop();
    }

    /**
     * Fails (under {@code CI=true}) or skips loudly unless this JVM is root and containerd, ctr, runc, the runc shim
     * and busybox are installed.
     */
    public static void requirePrerequisites(String suite) {
        ContainerTests.requirePrerequisites(suite);
        List<String> missing = new ArrayList<>();
        if (!Files.isExecutable(CONTAINERD)) {
            missing.add(CONTAINERD.toString());
        }
        if (!Files.isExecutable(CTR)) {
            missing.add(CTR.toString());
        }
        if (!missing.isEmpty()) {
            String why = suite + " needs " + missing + " (Debian: containerd)";
            if ("true".equals(System.getenv("CI"))) {
                fail(why);
            }
            System.err.println("SKIPPED: " + why);
            Assumptions.abort(why);
        }
    }

    /** Creates the directory and its config, starts the daemon and waits until it answers. */
    public synchronized void start() throws IOException {
        if (dir != null) {
            throw new IllegalStateException("already started in " + dir);
        }
        dir = Files.createTempDirectory(Path.of("/tmp"), "h7cd",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.createDirectories(dir.resolve("root"));
        Files.createDirectories(dir.resolve("state"));
        Files.writeString(dir.resolve("config.toml"), config(), StandardCharsets.UTF_8);
        launch();
    }

    /** The daemon's gRPC socket. */
    public Path socket() {
        return requireStarted().resolve("c.sock");
    }

    /** The daemon's directory: config, root, state, sockets and log. */
    public Path dir() {
        return requireStarted();
    }

    /** The namespace {@link #ctr} acts in. */
    public String namespace() {
        return namespace;
    }

    /** A busybox rootfs under the daemon's directory, made on first use. */
    public synchronized Path rootfs() throws IOException {
        Path rootfs = requireStarted().resolve("rootfs");
        if (!Files.isDirectory(rootfs.resolve("bin"))) {
            BusyboxRootfs.create(rootfs);
        }
        return rootfs;
    }

    /** The running daemon's pid. */
    public synchronized long pid() {
        if (daemon == null || !daemon.isAlive()) {
            throw new IllegalStateException("the daemon is not running");
        }
        return daemon.pid();
    }

    /** Whether the daemon process is alive. */
    public synchronized boolean isRunning() {
        return daemon != null && daemon.isAlive();
    }

    /** Runs {@code ctr --address <socket> -n <namespace> args…} and returns its exit code and output. */
    public CtrResult ctr(String... args) {
        return ctrIn(namespace, args);
    }

    /** Runs {@code ctr --address <socket> -n <ns> args…} and returns its exit code and output. */
    public CtrResult ctrIn(String ns, String... args) {
        List<String> argv = new ArrayList<>(List.of(CTR.toString(), "--address", socket().toString(), "-n", ns));
        argv.addAll(List.of(args));
        return run(argv, CTR_TIMEOUT);
    }

    /**
     * Runs {@code args} detached in a new container {@code id} of the fixture's namespace, over the busybox rootfs,
     * with null IO ({@code ctr run -d --null-io}): the FIFOs ctr would otherwise leave in /run/containerd/fifo are
     * never made.
     */
    public CtrResult runDetached(String id, String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of("run", "-d", "--null-io", "--rootfs", rootfs().toString(), id));
        argv.addAll(List.of(args));
        return ctr(argv.toArray(String[]::new));
    }

    /**
     * Force-deletes every task ({@code ctr tasks rm -f}) and then every container of {@code ns}, as a sweep between
     * tests.
     *
     * @return the ids of the containers that were there, for a loud line about what a test left behind
     */
    public List<String> removeAll(String ns) {
        for (String task : ids(ctrIn(ns, "tasks", "ls", "-q").orFail("tasks ls").output())) {
            ctrIn(ns, "tasks", "rm", "-f", task);
        }
        List<String> containers = ids(ctrIn(ns, "containers", "ls", "-q").orFail("containers ls").output());
        for (String container : containers) {
            ctrIn(ns, "containers", "rm", container);
        }
        return containers;
    }

    /** The ids ctr's {@code ls -q} printed, one a line. */
    public static List<String> ids(String lsQuiet) {
        return lsQuiet.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    /** Whether the daemon answers a Version call ({@code ctr version} exits 0). */
    public boolean answers() {
        return ctr("version").ok();
    }

    /**
     * Sends SIGKILL to the daemon and waits until it is gone. Its shims and their containers keep running, as they do
     * when containerd crashes.
     */
    public synchronized void kill() {
        ProcessHandle p = daemon;
        if (p == null) {
            return;
        }
        p.destroyForcibly();
        awaitExit(p, Duration.ofSeconds(30));
    }

    /**
     * Stops the daemon if it runs (SIGTERM, then SIGKILL after 10 s) and starts it again with the same config; returns
     * once the new one answers a Version call.
     */
    public synchronized void restart() throws IOException {
        requireStarted();
        if (daemon != null && daemon.isAlive()) {
            terminate(daemon);
        }
        launch();
    }

    /** Stops the daemon and removes everything it and its shims made (idempotent). */
    public synchronized void stop() throws Exception {
        if (dir == null) {
            return;
        }
        try {
            if (daemon != null && daemon.isAlive()) {
                terminate(daemon);
            }
            daemon = null;
            for (ProcessHandle shim : ContainerTests.shimsOf(dir.resolve("c.sock").toString())) {
                System.err.println("PrivateContainerd: killing shim " + shim.pid() + " left by " + dir);
                shim.destroyForcibly();
                shim.onExit().get(10, TimeUnit.SECONDS);
            }
            Path tasks = dir.resolve("state").resolve("io.containerd.runtime.v2.task");
            Set<String> namespaces = namespacesIn(tasks);
            removeBundles(tasks);
            unmountEverythingUnder(dir);
            for (String ns : namespaces) {
                removeHostState(ns);
            }
            deleteRecursively(dir);
        } finally {
            dir = null;
        }
    }

    /**
     * Starts the daemon through a shell that exits at once, so the daemon is not a child of this JVM: the behaviour
     * suite counts the JVM's children to find leaks.
     */
    private void launch() throws IOException {
        Files.deleteIfExists(socket()); // a killed daemon leaves its socket file: the file must mean "this daemon"
        Path log = dir.resolve("containerd.log");
        CtrResult shell = run(List.of("/bin/sh", "-c", "\"$1\" --config \"$2\" >>\"$3\" 2>&1 </dev/null & echo $!",
                "sh", CONTAINERD.toString(), dir.resolve("config.toml").toString(), log.toString()), CTR_TIMEOUT);
        long pid = Long.parseLong(shell.orFail("starting containerd").output().strip());
        daemon = ProcessHandle.of(pid).orElseThrow(
                () -> new IllegalStateException("containerd exited at once; log:\n" + tail(log)));
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!Files.exists(socket()) || !answers()) {
            // The wait between probes is the daemon's own exit: a daemon that dies is reported at once.
            if (awaitExit(daemon, Duration.ofMillis(50)) || System.nanoTime() > deadline) {
                String why = daemon.isAlive() ? "did not answer within " + START_TIMEOUT : "exited";
                daemon.destroyForcibly();
                throw new IllegalStateException("containerd in " + dir + " " + why + "; log:\n" + tail(log));
            }
        }
    }

    private String config() {
        StringBuilder disabled = new StringBuilder();
        for (String plugin : DISABLED_PLUGINS) {
            disabled.append(disabled.length() == 0 ? "" : ", ").append('"').append(plugin).append('"');
        }
        return """
                version = 2
                root = "%1$s/root"
                state = "%1$s/state"
                disabled_plugins = [%2$s]

                [grpc]
                  address = "%1$s/c.sock"

                [ttrpc]
                  address = "%1$s/c.sock.ttrpc"

                [debug]
                  address = "%1$s/d.sock"
                  level = "debug"

                [plugins."io.containerd.internal.v1.opt"]
                  path = "%1$s/opt"
                """.formatted(dir, disabled);
    }

    private Path requireStarted() {
        Path d = dir;
        if (d == null) {
            throw new IllegalStateException("the daemon was not started");
        }
        return d;
    }

    private static Set<String> namespacesIn(Path tasks) throws IOException {
        Set<String> found = new LinkedHashSet<>();
        if (Files.isDirectory(tasks)) {
            try (Stream<Path> s = Files.list(tasks)) {
                s.filter(Files::isDirectory).forEach(p -> found.add(p.getFileName().toString()));
            }
        }
        return found;
    }

    /**
     * For each bundle the daemon's shims left ({@code <state>/io.containerd.runtime.v2.task/<ns>/<id>}): removes the
     * shim's socket, force-deletes the runc container and unmounts its rootfs. Not {@link
     * ContainerTests#removeLeftovers}: containerd's shims keep runc's state in runc's default root
     * ({@link #RUNC_ROOT}), not under the state directory as Berth's own runtime does.
     */
    private static void removeBundles(Path tasks) throws IOException {
        if (!Files.isDirectory(tasks)) {
            return;
        }
        try (Stream<Path> namespaces = Files.list(tasks)) {
            for (Path namespace : namespaces.filter(Files::isDirectory).toList()) {
                try (Stream<Path> bundles = Files.list(namespace)) {
                    for (Path bundle : bundles.filter(b -> Files.exists(b.resolve("config.json"))).toList()) {
                        Path address = bundle.resolve("address");
                        if (Files.exists(address)) {
                            Files.deleteIfExists(Path.of(Files.readString(address).strip().replace("unix://", "")));
                        }
                        ContainerTests.runQuietly("runc", "--root", RUNC_ROOT.resolve(namespace.getFileName())
                                .toString(), "delete", "--force", bundle.getFileName().toString());
                        ContainerTests.runQuietly("umount", bundle.resolve("rootfs").toString());
                    }
                }
            }
        }
    }

    /**
     * The runc state directory and the cgroups of a namespace of ours, once empty. Only {@code h7-} namespaces: other
     * suites on this host use the same host-wide paths for theirs.
     */
    private static void removeHostState(String ns) throws IOException {
        if (!ns.startsWith("h7-")) {
            return;
        }
        rmdirQuietly(RUNC_ROOT.resolve(ns));
        Path cgroups = Path.of("/sys/fs/cgroup");
        if (Files.isDirectory(cgroups)) {
            try (Stream<Path> controllers = Files.list(cgroups)) {
                for (Path controller : controllers.toList()) {
                    rmdirQuietly(controller.resolve(ns));
                }
            }
        }
    }

    private static void rmdirQuietly(Path dir) {
        try {
            Files.deleteIfExists(dir); // an rmdir: fails when not empty, and then it is not ours to remove
        } catch (IOException e) {
            System.err.println("PrivateContainerd: could not remove " + dir + ": " + e);
        }
    }

    private static void unmountEverythingUnder(Path dir) throws IOException {
        String prefix = dir.toString() + "/";
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] fields = line.split(" ");
            String target = fields[4].replace("\\040", " ");
            if (target.startsWith(prefix)) {
                mounts.add(target);
            }
        }
        mounts.sort(Comparator.comparingInt(String::length).reversed()); // deepest first
        for (String target : mounts) {
            System.err.println("PrivateContainerd: unmounting leftover " + target);
            ContainerTests.runQuietly("umount", "-l", target);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** SIGTERM, then SIGKILL after 10 s. */
    private static void terminate(ProcessHandle p) {
        p.destroy();
        if (!awaitExit(p, Duration.ofSeconds(10))) {
            p.destroyForcibly();
            awaitExit(p, Duration.ofSeconds(10));
        }
    }

    /**
     * Waits for a process that is not our child. The JDK notices the end of a non-child only every couple of seconds,
     * so this also checks {@code isAlive} every 10 ms, up to {@code timeout}.
     */
    private static boolean awaitExit(ProcessHandle p, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        java.util.concurrent.CompletableFuture<ProcessHandle> exit = p.onExit();
        while (p.isAlive()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            try {
                exit.get(Math.min(left, TimeUnit.MILLISECONDS.toNanos(10)), TimeUnit.NANOSECONDS);
                return true;
            } catch (TimeoutException e) {
                // look again
            } catch (ExecutionException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return true;
    }

    private CtrResult run(List<String> argv, Duration timeout) {
        try {
            // Output goes to a file, not a pipe: a ctr that hangs must not hang the test past the timeout.
            Path out = Files.createTempFile(requireStarted(), "ctr", ".out");
            try {
                Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .redirectOutput(out.toFile())
                        .start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError(argv + " did not finish within " + timeout + ": "
                            + Files.readString(out));
                }
                return new CtrResult(p.exitValue(), Files.readString(out));
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
