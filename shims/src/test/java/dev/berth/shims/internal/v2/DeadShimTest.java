package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.ProcessSpec;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Signal;
import dev.berth.core.Stdio;
import dev.berth.core.TaskSpec;
import dev.berth.core.os.Syscalls;
import dev.berth.shims.Shim;
import dev.berth.shims.ShimProcess;
import dev.berth.shims.testing.BusyboxRootfs;
import dev.berth.shims.testing.ContainerTests;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The v2 runtime against the real {@code containerd-shim-runc-v2}, as root: a shim SIGKILLed under a task is
 * cleaned up after (and reported once, UNKNOWN only if the task had not exited), a normal delete pays for no
 * {@code delete} action, a detached task keeps running, and output can go to files. Each test has its own
 * namespace (runc state {@code <state>/.runc/<ns>}) and state directory; whatever a test leaves is removed
 * afterwards.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class DeadShimTest {
    static final Duration BOUND = Duration.ofSeconds(30);

    final RuntimeSchedulers schedulers = RuntimeSchedulers.create("h1-dead-shim-it");

    @TempDir
    Path dir;
    Path state;
    Path rootfs;
    V2ShimManager manager;

    @BeforeEach
    void requireRootRuncAndShim() throws IOException {
        ContainerTests.requirePrerequisites("the dead shim tests");
        state = dir.resolve("state");
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
        // No linger: a daemon ends with its last task, so each test sees its whole end.
        manager = V2ShimManager.start(state, schedulers, Syscalls.linux(), null, null, Duration.ofSeconds(2), 4,
                Duration.ZERO);
    }

    @AfterEach
    void cleanUp() throws Exception {
        try {
            if (manager != null) {
                manager.close().block(BOUND);
            }
        } finally {
            try {
                ContainerTests.removeLeftovers(state);
            } finally {
                schedulers.dispose();
            }
        }
    }

    /** runc's root for namespace {@code ns}: the manager gives the shim {@code <state>/.runc}. */
    String runcRoot(String ns) {
        return state.resolve(V2ShimManager.RUNC_ROOT).resolve(ns).toString();
    }

    // ---- the shim dies under a task

    @Test
    void aShimKilledUnderARunningTaskIsCleanedUpAndItsExitIsUnknownOnce() throws Exception {
        String ns = namespace("h1-dead-run");
        V2Shim shim = create(ns, "web", ProcessSpec.of("/bin/sleep", "1000"));
        Path socket = Path.of(ShimStart.parseAddress(Files.readString(shim.bundle().address())));
        Mono<ExitStatus> exit = shim.init().exit();
        int pid = shim.init().start().block(BOUND);
        assertThat(runc(ns, "state", "web")).as("runc knows the container").isZero();

        killShim(shim);

        StepVerifier.create(shim.lost()).expectComplete().verify(BOUND);
        // Hot and cached: the same single UNKNOWN for every subscriber, then completion.
        for (int i = 0; i < 2; i++) {
            StepVerifier.create(exit)
                    .assertNext(s -> assertThat(s.kind()).isEqualTo(ExitStatus.Kind.UNKNOWN))
                    .expectComplete()
                    .verify(BOUND);
        }
        assertThat(manager.deadShims().deleteActions()).as("the delete action ran once").isEqualTo(1);
        assertNothingLeft(ns, "web", shim, socket);
        assertThat(gone(pid)).as("the container's init is gone").isTrue();

        // After the loss: delete completes at once, commands fail NOT_FOUND.
        StepVerifier.create(shim.delete()).expectComplete().verify(BOUND);
        StepVerifier.create(shim.killAll(Signal.KILL))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(BOUND);
        StepVerifier.create(shim.init().kill(Signal.KILL))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(BOUND);
        StepVerifier.create(shim.exec("x", ProcessSpec.of("/bin/true")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(BOUND);
    }

    @Test
    void aShimKilledUnderACreatedTaskAndItsExecIsCleanedUpToo() throws Exception {
        String ns = namespace("h1-dead-exec");
        V2Shim shim = create(ns, "web", ProcessSpec.of("/bin/sleep", "1000"));
        Path socket = Path.of(ShimStart.parseAddress(Files.readString(shim.bundle().address())));
        shim.init().start().block(BOUND);
        ShimProcess exec = shim.exec("sleeper", ProcessSpec.of("/bin/sleep", "1000")).block(BOUND);
        exec.start().block(BOUND);

        killShim(shim);

        StepVerifier.create(shim.lost()).expectComplete().verify(BOUND);
        StepVerifier.create(exec.exit())
                .assertNext(s -> assertThat(s.kind()).isEqualTo(ExitStatus.Kind.UNKNOWN))
                .expectComplete()
                .verify(BOUND);
        StepVerifier.create(shim.init().exit())
                .assertNext(s -> assertThat(s.kind()).isEqualTo(ExitStatus.Kind.UNKNOWN))
                .expectComplete()
                .verify(BOUND);
        assertNothingLeft(ns, "web", shim, socket);
        StepVerifier.create(exec.delete()).expectComplete().verify(BOUND);
        StepVerifier.create(shim.delete()).expectComplete().verify(BOUND);
    }

    @Test
    void aTaskThatExitedBeforeItsShimWasKilledKeepsItsRealExit() throws Exception {
        String ns = namespace("h1-dead-exited");
        V2Shim shim = create(ns, "web", ProcessSpec.of("/bin/sh", "-c", "exit 3"));
        Path socket = Path.of(ShimStart.parseAddress(Files.readString(shim.bundle().address())));
        Mono<ExitStatus> exit = shim.init().exit();
        shim.init().start().block(BOUND);
        ExitStatus real = exit.block(BOUND);
        assertThat(real.kind()).isEqualTo(ExitStatus.Kind.EXITED);
        assertThat(real.code()).hasValue(3);

        killShim(shim);

        StepVerifier.create(shim.lost()).expectComplete().verify(BOUND);
        StepVerifier.create(exit)
                .expectNext(real)
                .expectComplete()
                .verify(BOUND);
        assertNothingLeft(ns, "web", shim, socket);
    }

    @Test
    void aShimKilledBeforeStartIsCleanedUpAndTheNeverStartedInitIsUnknown() throws Exception {
        String ns = namespace("h1-dead-created");
        V2Shim shim = create(ns, "web", ProcessSpec.of("/bin/sleep", "1000"));
        Path socket = Path.of(ShimStart.parseAddress(Files.readString(shim.bundle().address())));

        killShim(shim);

        StepVerifier.create(shim.lost()).expectComplete().verify(BOUND);
        StepVerifier.create(shim.init().exit())
                .assertNext(s -> assertThat(s.kind()).isEqualTo(ExitStatus.Kind.UNKNOWN))
                .expectComplete()
                .verify(BOUND);
        assertNothingLeft(ns, "web", shim, socket);
    }

    // ---- a normal delete

    @Test
    void aNormalDeleteRunsNoDeleteActionAndNeverReportsALoss() throws Exception {
        String ns = namespace("h1-normal");
        V2Shim shim = create(ns, "web", ProcessSpec.of("/bin/sh", "-c", "exit 0"));
        Path socket = Path.of(ShimStart.parseAddress(Files.readString(shim.bundle().address())));
        Mono<Void> lost = shim.lost();
        boolean[] lostSeen = new boolean[1];
        reactor.core.Disposable watch = lost.subscribe(null, null, () -> lostSeen[0] = true);
        Mono<ExitStatus> exit = shim.init().exit();
        shim.init().start().block(BOUND);
        assertThat(exit.block(BOUND).code()).hasValue(0);

        StepVerifier.create(shim.delete()).expectComplete().verify(BOUND);

        assertThat(manager.deadShims().deleteActions()).as("no delete action for a normal delete").isZero();
        assertNothingLeft(ns, "web", shim, socket);
        assertThat(lostSeen[0]).as("a deleted shim is not lost").isFalse();
        watch.dispose();
    }

    // ---- detach

    @Test
    void detachLeavesTheContainerRunningAndTheBundleInPlace() throws Exception {
        String ns = namespace("h1-detach");
        V2Shim shim = create(ns, "web", ProcessSpec.of("/bin/sleep", "1000"));
        Path socket = Path.of(ShimStart.parseAddress(Files.readString(shim.bundle().address())));
        Mono<ExitStatus> exit = shim.init().exit();
        int pid = shim.init().start().block(BOUND);

        StepVerifier.create(shim.detach()).expectComplete().verify(BOUND);

        assertThat(Files.isDirectory(shim.bundle().path())).as("bundle kept").isTrue();
        assertThat(Files.exists(socket)).as("socket kept").isTrue();
        assertThat(ProcessHandle.of(shim.shimPid())).as("shim still runs").isPresent();
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).as("container still runs").contains(true);
        assertThat(runcOutput(ns, "state", "web")).contains("\"status\": \"running\"");
        // The connection is closed, yet nothing is reported: not a loss, no exit.
        StepVerifier.create(Mono.firstWithSignal(shim.lost().then(Mono.just("lost")),
                        exit.map(s -> "exit " + s)))
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(500))
                .thenCancel()
                .verify(BOUND);
        StepVerifier.create(shim.delete())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(BOUND);
        StepVerifier.create(shim.killAll(Signal.KILL))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(BOUND);
        // The manager's close neither waits for nor kills a detached shim.
        V2ShimManager closed = manager;
        manager = null;
        StepVerifier.create(closed.close()).expectComplete().verify(BOUND);
        assertThat(ProcessHandle.of(shim.shimPid())).as("shim survives the manager").isPresent();
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).as("container survives").contains(true);

        // What a restore that finds the shim dead would do: the real delete action through the cleanup.
        killShim(shim);
        StepVerifier.create(closed.deadShims().clean(ns, shim.bundle(), shim.shimStart()))
                .expectComplete()
                .verify(BOUND);
        assertThat(closed.deadShims().deleteActions()).isEqualTo(1);
        assertNothingLeft(ns, "web", shim, socket);
        assertThat(gone(pid)).as("the container's init is gone").isTrue();
    }

    @Test
    void theCleanupOfABundleThatWasNeverCreatedJustRemovesIt() throws Exception {
        String ns = namespace("h1-never");
        Bundles bundles = manager.bundles();
        Bundle bundle = bundles.create(ns, TaskSpec.builder("web", ProcessSpec.of("/bin/true")).rootfs(rootfs)
                .build()).block(BOUND);
        ShimStart shimStart = new ShimStart(ShimStart.Config.of(
                RuntimeBinaries.fromEnvironment(schedulers).resolveNow(V2ShimManager.RUNTIME), state,
                state.resolve("events.sock").toString(), RuntimeBinaries.fromEnvironment(schedulers).shimPath()),
                schedulers);

        StepVerifier.create(manager.deadShims().clean(ns, bundle, shimStart)).expectComplete().verify(BOUND);

        assertThat(Files.exists(bundle.path())).isFalse();
        assertThat(manager.deadShims().deleteActions()).as("no runtime file: nothing for runc").isZero();
        StepVerifier.create(manager.deadShims().clean("h1-other", bundle, shimStart))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(BOUND);
    }

    // ---- output to files

    @Test
    void stdoutAndStderrLandInOneFile() throws Exception {
        String ns = namespace("h1-file-one");
        Path log = dir.resolve("logs/one/web.log");
        Stdio stdio = new Stdio(Stdio.Input.NULL, Stdio.Output.appendTo(log), Stdio.Output.appendTo(log));
        V2Shim shim = runToExit(ns, "web", "echo out; echo err >&2; echo out2", stdio);
        StepVerifier.create(shim.init().stdout())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(BOUND);
        StepVerifier.create(shim.delete()).expectComplete().verify(BOUND);

        // The shim copies each stream on its own: their lines interleave in no set order.
        assertThat(lines(log)).containsExactlyInAnyOrder("out", "err", "out2");
        assertThat(Files.readString(log).indexOf("out\n")).isLessThan(Files.readString(log).indexOf("out2\n"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(log))).isEqualTo("rw-r--r--");
    }

    /**
     * The 1.6 shim, given one path for both streams, shares one descriptor but lets the stdout copy close it when
     * stdout ends: stderr written after that would be lost. Berth names the file differently for stderr.
     */
    @Test
    void stderrWrittenAfterStdoutClosedStillLandsInTheSharedFile() throws Exception {
        String ns = namespace("h1-file-late");
        Path log = dir.resolve("late.log");
        Stdio stdio = new Stdio(Stdio.Input.NULL, Stdio.Output.appendTo(log), Stdio.Output.appendTo(log));
        V2Shim shim = runToExit(ns, "web", "echo out; exec 1>&-; sleep 0.3; echo err >&2", stdio);
        StepVerifier.create(shim.delete()).expectComplete().verify(BOUND);

        assertThat(Files.readString(log)).isEqualTo("out\nerr\n");
    }

    @Test
    void stdoutAndStderrLandInSeparateFilesAppended() throws Exception {
        String ns = namespace("h1-file-two");
        Path out = dir.resolve("out.log");
        Path err = dir.resolve("err/err.log");
        Files.writeString(out, "before\n");
        Stdio stdio = new Stdio(Stdio.Input.NULL, Stdio.Output.appendTo(out), Stdio.Output.appendTo(err));
        V2Shim shim = runToExit(ns, "web", "echo out; echo err >&2", stdio);
        StepVerifier.create(shim.delete()).expectComplete().verify(BOUND);

        assertThat(Files.readString(out)).isEqualTo("before\nout\n");
        assertThat(Files.readString(err)).isEqualTo("err\n");
    }

    @Test
    void stdoutToAFileAndStderrToAPipe() throws Exception {
        String ns = namespace("h1-file-mixed");
        Path out = dir.resolve("mixed.log");
        Stdio stdio = new Stdio(Stdio.Input.NULL, Stdio.Output.appendTo(out), Stdio.Output.PIPE);
        V2Shim shim = create(ns, "web", ProcessSpec.builder("/bin/sh", "-c", "echo out; echo err >&2")
                .stdio(stdio).build());
        Mono<String> errText = text(shim.init().stderr()).cache();
        errText.subscribe();
        shim.init().start().then(shim.init().exit()).block(BOUND);

        assertThat(errText.block(BOUND)).isEqualTo("err\n");
        StepVerifier.create(shim.delete()).expectComplete().verify(BOUND);
        assertThat(Files.readString(out)).isEqualTo("out\n");
    }

    @Test
    void anExecsOutputLandsInFiles() throws Exception {
        String ns = namespace("h1-file-exec");
        V2Shim shim = create(ns, "web", ProcessSpec.of("/bin/sleep", "1000"));
        shim.init().start().block(BOUND);
        Path out = dir.resolve("exec/out.log");
        Path err = dir.resolve("exec/err.log");
        Path both = dir.resolve("exec/both.log");

        ShimProcess separate = shim.exec("sep", ProcessSpec.builder("/bin/sh", "-c", "echo xo; echo xe >&2")
                .stdio(new Stdio(Stdio.Input.NULL, Stdio.Output.appendTo(out), Stdio.Output.appendTo(err)))
                .build()).block(BOUND);
        separate.start().then(separate.exit()).block(BOUND);
        ShimProcess shared = shim.exec("one", ProcessSpec.builder("/bin/sh", "-c", "echo yo; echo ye >&2")
                .stdio(new Stdio(Stdio.Input.NULL, Stdio.Output.appendTo(both), Stdio.Output.appendTo(both)))
                .build()).block(BOUND);
        ExitStatus status = shared.start().then(shared.exit()).block(BOUND);

        assertThat(status.code()).hasValue(0);
        StepVerifier.create(separate.stderr())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(BOUND);
        // At the exit the shim may still be copying to the file; an exec's Delete waits for that copy.
        StepVerifier.create(separate.delete().then(shared.delete())).expectComplete().verify(BOUND);
        assertThat(Files.readString(out)).isEqualTo("xo\n");
        assertThat(Files.readString(err)).isEqualTo("xe\n");
        assertThat(lines(both)).containsExactlyInAnyOrder("yo", "ye");
        shim.init().kill(Signal.KILL).then(shim.init().exit()).block(BOUND);
        StepVerifier.create(shim.delete()).expectComplete().verify(BOUND);
        assertThat(Files.exists(shim.bundle().path())).isFalse();
    }

    @Test
    void anOutputPathThatIsADirectoryIsRefusedAndLeavesNothing() throws Exception {
        String ns = namespace("h1-file-bad");
        Path notAFile = Files.createDirectories(dir.resolve("a-directory"));
        TaskSpec spec = TaskSpec.builder("web", ProcessSpec.builder("/bin/true")
                .stdio(new Stdio(Stdio.Input.NULL, Stdio.Output.appendTo(notAFile), Stdio.Output.PIPE)).build())
                .rootfs(rootfs).build();

        StepVerifier.create(manager.create(ns, spec))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(BOUND);
        assertThat(Files.exists(state.resolve(ns).resolve("web"))).isFalse();
        assertThat(ContainerTests.shimsOf(ShimStart.privateAddress(state))).isEmpty();
    }

    @Test
    void aFailedCreateRemovesTheOutputFileItCreatedButNotOneThatWasThere() throws Exception {
        String ns = namespace("h1-file-undo");
        Path created = dir.resolve("new/out.log");
        Path existing = dir.resolve("existing.log");
        Files.writeString(existing, "");
        TaskSpec spec = TaskSpec.builder("web", ProcessSpec.builder("/no/such/program")
                .stdio(new Stdio(Stdio.Input.NULL, Stdio.Output.appendTo(created), Stdio.Output.appendTo(existing)))
                .build()).rootfs(rootfs).build();

        StepVerifier.create(manager.create(ns, spec))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(BOUND);

        assertThat(Files.exists(created)).as("the file this create made is undone").isFalse();
        assertThat(Files.exists(existing)).as("the caller's file stays").isTrue();
        assertThat(Files.exists(state.resolve(ns).resolve("web"))).isFalse();
        assertThat(runc(ns, "state", "web")).isNotZero();
        assertThat(ContainerTests.shimsOf(ShimStart.privateAddress(state))).isEmpty();
    }

    // ---- helpers

    private String namespace(String ns) {
        return ns;
    }

    private V2Shim create(String ns, String id, ProcessSpec process) {
        return (V2Shim) manager.create(ns, TaskSpec.builder(id, process).rootfs(rootfs).build()).block(BOUND);
    }

    private V2Shim runToExit(String ns, String id, String script, Stdio stdio) {
        V2Shim shim = create(ns, id, ProcessSpec.builder("/bin/sh", "-c", script).stdio(stdio).build());
        ExitStatus status = shim.init().start().then(shim.init().exit()).block(BOUND);
        assertThat(status.code()).hasValue(0);
        return shim;
    }

    private static void killShim(V2Shim shim) throws Exception {
        ProcessHandle daemon = ProcessHandle.of(shim.shimPid()).orElseThrow();
        daemon.destroyForcibly();
        daemon.onExit().get(BOUND.toSeconds(), TimeUnit.SECONDS);
    }

    private void assertNothingLeft(String ns, String id, Shim shim, Path socket) throws Exception {
        V2Shim v2 = (V2Shim) shim;
        assertThat(Files.exists(state.resolve(ns).resolve(id))).as("bundle removed").isFalse();
        assertThat(Files.exists(state.resolve(ns).resolve("." + id))).as("no half-removed bundle").isFalse();
        assertThat(Files.exists(socket)).as("shim socket removed").isFalse();
        assertThat(runc(ns, "state", id)).as("runc state gone").isNotZero();
        assertThat(Files.exists(Path.of(runcRoot(ns), id))).as("runc state dir gone").isFalse();
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).as("no mount in the bundle")
                .doesNotContain(state.resolve(ns).resolve(id).toString());
        assertThat(ContainerTests.shimsOf(ShimStart.privateAddress(state))).as("no shim").isEmpty();
        assertThat(gone(v2.shimPid())).as("the daemon is gone").isTrue();
        assertThat(zombieChildren()).as("no zombie of ours").isEmpty();
    }

    /**
     * Whether {@code pid} has exited: no such process, or a zombie that is not ours (the daemon and the container
     * are re-parented to PID 1, which reaps them when it gets to it).
     */
    private static boolean gone(int pid) throws IOException {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
        } catch (java.nio.file.NoSuchFileException e) {
            return true;
        }
        String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return rest[0].equals("Z") && Long.parseLong(rest[1]) != ProcessHandle.current().pid();
    }

    /** Children of this JVM in state Z. */
    private static List<Long> zombieChildren() throws IOException {
        long self = ProcessHandle.current().pid();
        List<Long> zombies = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                String stat;
                try {
                    stat = Files.readString(proc.resolve("stat"));
                } catch (IOException e) {
                    continue;
                }
                // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
                String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                if (rest[0].equals("Z") && Long.parseLong(rest[1]) == self) {
                    zombies.add(Long.parseLong(proc.getFileName().toString()));
                }
            }
        }
        return zombies;
    }

    private int runc(String ns, String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("runc", "--root", runcRoot(ns)));
        argv.addAll(List.of(args));
        return run(argv.toArray(String[]::new));
    }

    private String runcOutput(String ns, String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("runc", "--root", runcRoot(ns)));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    private static int run(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor();
    }

    private static List<String> lines(Path file) throws IOException {
        return Files.readAllLines(file);
    }

    private static Mono<String> text(Flux<ByteBuffer> output) {
        return output.reduce(new StringBuilder(), (sb, b) -> sb.append(StandardCharsets.UTF_8.decode(b)))
                .map(StringBuilder::toString)
                .defaultIfEmpty("");
    }
}
