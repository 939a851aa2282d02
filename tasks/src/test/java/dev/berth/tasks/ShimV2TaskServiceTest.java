package dev.berth.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ExitStatus;
import dev.berth.core.ProcessSpec;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Signal;
import dev.berth.core.Task;
import dev.berth.core.TaskSpec;
import dev.berth.shims.testing.BusyboxRootfs;
import dev.berth.shims.testing.ContainerTests;
import dev.berth.shims.v2.ShimV2Runtime;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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

/**
 * A {@link TaskManager} over the shim v2 runtime, running busybox containers through the real
 * {@code containerd-shim-runc-v2}, as root. After every test, whatever happened, shims carrying this test's private
 * {@code -address} are killed, their sockets and runc containers removed.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class ShimV2TaskServiceTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final String NS = "default";

    @TempDir
    Path dir;
    Path state;
    Path rootfs;
    TaskManager tasks;

    @BeforeEach
    void requireRootRuncAndShim() throws IOException {
        ContainerTests.requirePrerequisites("the shim v2 task tests");
        state = dir.resolve("state");
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
        RuntimeSchedulers schedulers = RuntimeSchedulers.create("v2-task-test");
        tasks = TaskManager.create(TaskManagerConfig.builder(
                        // No linger: each test sees a daemon end with its last task.
                        ShimV2Runtime.create(ShimV2Runtime.Config.defaults(state, schedulers)
                                .withShimPool(ShimV2Runtime.DEFAULT_SHIMS_PER_NAMESPACE, Duration.ZERO)), schedulers)
                .ownsSchedulers(true)
                .build());
    }

    @AfterEach
    void closeAndCleanUp() throws Exception {
        if (state == null) {
            return;
        }
        try {
            if (tasks != null) {
                tasks.close().block(WAIT);
            }
        } finally {
            ContainerTests.removeLeftovers(state);
        }
    }

    TaskSpec taskSpec(String id, ProcessSpec spec) {
        return TaskSpec.builder(id, spec).runtime(ShimV2Runtime.NAME).rootfs(rootfs).build();
    }

    static Mono<String> text(Flux<ByteBuffer> output) {
        return output.reduce(new StringBuilder(), (sb, b) -> sb.append(StandardCharsets.UTF_8.decode(b)))
                .map(StringBuilder::toString)
                .defaultIfEmpty("");
    }

    /** Creates, subscribes the exit and stdout, starts, waits for the exit and stdout, deletes. */
    record Outcome(ExitStatus exit, String stdout, Path bundle) {
    }

    Outcome run(String id, String... args) {
        Task task = tasks.create(taskSpec(id, ProcessSpec.of(args))).block(WAIT);
        Mono<ExitStatus> exit = task.exit();
        Mono<String> out = text(task.stdout()).cache();
        out.subscribe();
        ExitStatus status = task.start().then(exit).block(WAIT);
        String stdout = out.block(WAIT);
        task.delete().block(WAIT);
        return new Outcome(status, stdout, state.resolve(NS).resolve(id));
    }

    @Test
    void anUpdateReachesTheContainersCgroupAndMetricsAreSampled() throws Exception {
        Task task = tasks.create(taskSpec("limited", ProcessSpec.of("/bin/sleep", "300"))).block(WAIT);
        task.start().block(WAIT);
        task.update(new dev.berth.core.oci.LinuxResources(List.of(), null, null,
                new dev.berth.core.oci.LinuxResources.Pids(77), java.util.Map.of())).block(WAIT);
        Path pidsMax = Path.of("/sys/fs/cgroup/pids", NS, "limited", "pids.max");
        if (!Files.exists(pidsMax)) { // a cgroup v2 host
            pidsMax = Path.of("/sys/fs/cgroup", NS, "limited", "pids.max");
        }
        assertThat(Files.readString(pidsMax).strip()).isEqualTo("77");
        dev.berth.core.TaskMetrics metrics = task.metrics().block(WAIT);
        assertThat(metrics.data().getTypeUrl()).startsWith("io.containerd.cgroups.v");
        assertThat(metrics.data().getValue().isEmpty()).isFalse();
        org.assertj.core.api.Assertions.assertThat(org.assertj.core.api.Assertions.catchThrowable(
                () -> task.update(new dev.berth.core.oci.LinuxResources(List.of(), null, null, null,
                        java.util.Map.of())).block(WAIT)))
                .satisfies(e -> assertThat(dev.berth.core.Errors.kindOf(e))
                        .isEqualTo(dev.berth.core.ErrorKind.INVALID_ARGUMENT));
        task.delete(true).block(WAIT);
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> task.metrics().block(WAIT)))
                .satisfies(e -> assertThat(dev.berth.core.Errors.kindOf(e))
                        .isEqualTo(dev.berth.core.ErrorKind.FAILED_PRECONDITION));
    }

    @Test
    void echoesStdoutArrivesAndTheExitIsZero() {
        Outcome outcome = run("echo", "/bin/echo", "hello from a container");
        assertThat(outcome.stdout()).isEqualTo("hello from a container\n");
        assertThat(outcome.exit().isSuccess()).isTrue();
    }

    @Test
    void exitCodeSevenIsReportedAsSeven() {
        Outcome outcome = run("seven", "/bin/sh", "-c", "exit 7");
        assertThat(outcome.exit().code()).hasValue(7);
        assertThat(outcome.exit().signal()).isEmpty();
    }

    @Test
    void stderrIsSeparateFromStdout() {
        Task task = tasks.create(taskSpec("both", ProcessSpec.of("/bin/sh", "-c", "echo out; echo err >&2")))
                .block(WAIT);
        Mono<String> out = text(task.stdout()).cache();
        Mono<String> err = text(task.stderr()).cache();
        out.subscribe();
        err.subscribe();
        task.start().then(task.exit()).block(WAIT);
        assertThat(out.block(WAIT)).isEqualTo("out\n");
        assertThat(err.block(WAIT)).isEqualTo("err\n");
        task.delete().block(WAIT);
    }

    @Test
    void killOfSleepIsReportedAsSignalKill() {
        Task task = tasks.create(taskSpec("sleeper", ProcessSpec.of("/bin/sleep", "60"))).block(WAIT);
        task.start().block(WAIT);
        task.kill(Signal.KILL).block(WAIT);
        ExitStatus status = task.exit().block(WAIT);
        assertThat(status.signal()).contains(Signal.KILL);
        assertThat(status.toShellCode()).isEqualTo(137);
        task.delete().block(WAIT);
    }

    /**
     * The init is PID 1 of its PID namespace, so a signal it has no handler for (TERM to {@code sleep}) is ignored.
     * A shell that traps TERM and exits 143 is what the shim reports as 128 + 15, decoded as signaled(TERM).
     */
    @Test
    void termToAnInitThatHandlesItIsReportedAsSignalTerm() {
        Task task = tasks.create(taskSpec("termed",
                ProcessSpec.of("/bin/sh", "-c", "trap 'exit 143' TERM; echo ready; while :; do sleep 1; done")))
                .block(WAIT);
        Mono<String> out = text(task.stdout().take(1)).cache();
        out.subscribe();
        task.start().block(WAIT);
        assertThat(out.block(WAIT)).isEqualTo("ready\n");
        task.kill(Signal.TERM).block(WAIT);
        ExitStatus status = task.exit().block(WAIT);
        assertThat(status.signal()).contains(Signal.TERM);
        assertThat(status.code()).isEmpty();
        assertThat(status.toShellCode()).isEqualTo(143);
        task.delete().block(WAIT);
    }

    /** Every stream discarded: the shim gets no stdio at all (its own /dev/null), so no FIFO and no handoff. */
    @Test
    void aTaskWithEveryStreamDiscardedHasNoFifoAndNoHandoff() throws IOException {
        Task task = tasks.create(taskSpec("quiet",
                ProcessSpec.builder("/bin/sh", "-c", "echo out; echo err >&2; exit 4")
                        .stdio(dev.berth.core.Stdio.NULL).build())).block(WAIT);
        Path bundle = state.resolve(NS).resolve("quiet");
        try (Stream<Path> files = Files.list(bundle)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList())
                    .as("no FIFO and no handoff pid file in the bundle")
                    .noneMatch(name -> name.startsWith("quiet-") || name.startsWith("stdio-handoff"));
        }
        Mono<String> out = text(task.stdout());
        ExitStatus status = task.start().then(task.exit()).block(WAIT);
        assertThat(status.code()).hasValue(4);
        assertThat(out.block(WAIT)).isEmpty();
        task.delete().block(WAIT);
        assertThat(bundle).doesNotExist();
    }

    @Test
    void deleteLeavesNoBundleNoShimAndNoSocket() throws IOException {
        Task task = tasks.create(taskSpec("gone", ProcessSpec.of("/bin/true"))).block(WAIT);
        Path bundle = state.resolve(NS).resolve("gone");
        Path socket = Path.of(Files.readString(bundle.resolve("address")).strip().replace("unix://", ""));
        assertThat(socket).exists();
        assertThat(ContainerTests.shimsOf(state.toAbsolutePath().normalize().toString())).hasSize(1);

        task.start().then(task.exit()).block(WAIT);
        task.delete().block(WAIT);

        assertThat(bundle).doesNotExist();
        try (Stream<Path> left = Files.list(state.resolve(NS))) {
            assertThat(left.toList()).isEmpty();
        }
        assertThat(ContainerTests.shimsOf(state.toAbsolutePath().normalize().toString())).isEmpty();
        assertThat(socket).doesNotExist();
    }

    @Test
    void aCreatedNeverStartedTaskDeletesAndItsExitCompletesEmpty() throws IOException {
        Task task = tasks.create(taskSpec("idle", ProcessSpec.of("/bin/true"))).block(WAIT);
        Mono<ExitStatus> exit = task.exit();
        assertThat(task.delete().blockOptional(WAIT)).isEmpty();
        assertThat(exit.blockOptional(WAIT)).isEmpty();
        assertThat(state.resolve(NS).resolve("idle")).doesNotExist();
        assertThat(ContainerTests.shimsOf(state.toAbsolutePath().normalize().toString())).isEmpty();
    }

    @Test
    void aMissingProgramFailsCreateWithNotFoundAndLeavesNoBundleOrShim() throws IOException {
        Throwable error = org.assertj.core.api.Assertions.catchThrowable(() ->
                tasks.create(taskSpec("broken", ProcessSpec.of("/bin/no-such-program"))).block(WAIT));
        assertThat(dev.berth.core.Errors.is(error, dev.berth.core.ErrorKind.NOT_FOUND)).as("%s", error).isTrue();
        assertThat(state.resolve(NS).resolve("broken")).doesNotExist();
        assertThat(ContainerTests.shimsOf(state.toAbsolutePath().normalize().toString())).isEmpty();
        // The same id can be created again: no runc container was left behind (pitfall 16).
        assertThat(run("broken", "/bin/true").exit().isSuccess()).isTrue();
    }

    @Test
    void catEchoesItsStdinAndEndsAfterTheWriteClosesIt() {
        Task task = tasks.create(taskSpec("cat", ProcessSpec.builder("/bin/cat")
                .stdio(dev.berth.core.Stdio.DEFAULT.withStdinPipe()).build())).block(WAIT);
        Mono<String> out = text(task.stdout()).cache();
        out.subscribe();
        task.start().block(WAIT);
        task.writeStdin(Flux.just(ByteBuffer.wrap("to the container\n".getBytes(StandardCharsets.UTF_8))))
                .block(WAIT);
        assertThat(task.exit().block(WAIT).isSuccess()).isTrue();
        assertThat(out.block(WAIT)).isEqualTo("to the container\n");
        task.delete().block(WAIT);
    }

    @Test
    void anExecsStdoutAndExitAreItsOwnWhileTheInitKeepsRunning() throws IOException {
        Task task = tasks.create(taskSpec("host", ProcessSpec.of("/bin/sleep", "60"))).block(WAIT);
        int initPid = task.start().block(WAIT);
        dev.berth.core.Process exec = task.exec("e1", ProcessSpec.of("/bin/sh", "-c", "echo in-exec; exit 5"))
                .block(WAIT);
        Path bundle = state.resolve(NS).resolve("host");
        assertThat(bundle.resolve("e1-stdout")).exists();
        Mono<String> out = text(exec.stdout()).cache();
        out.subscribe();
        int execPid = exec.start().block(WAIT);
        assertThat(execPid).isPositive().isNotEqualTo(initPid);
        ExitStatus execExit = exec.exit().block(WAIT);
        assertThat(execExit.code()).hasValue(5);
        assertThat(out.block(WAIT)).isEqualTo("in-exec\n");
        assertThat(task.status().block(WAIT)).isEqualTo(dev.berth.core.TaskStatus.RUNNING);
        assertThat(exec.delete().block(WAIT).code()).hasValue(5);
        assertThat(bundle.resolve("e1-stdout")).doesNotExist();
        assertThat(bundle.resolve("e1-stderr")).doesNotExist();

        task.kill(Signal.KILL).block(WAIT);
        assertThat(task.exit().block(WAIT).signal()).contains(Signal.KILL);
        task.delete().block(WAIT);
        assertThat(bundle).doesNotExist();
        assertThat(ContainerTests.shimsOf(state.toAbsolutePath().normalize().toString())).isEmpty();
    }

    @Test
    void aRunningExecIsListedByPidsWithItsIdAndDiesByKill() {
        Task task = tasks.create(taskSpec("listed", ProcessSpec.of("/bin/sleep", "60"))).block(WAIT);
        int initPid = task.start().block(WAIT);
        dev.berth.core.Process exec = task.exec("sleeper", ProcessSpec.of("sleep", "60")).block(WAIT);
        int execPid = exec.start().block(WAIT);
        List<dev.berth.core.ProcessInfo> pids = task.pids().collectList().block(WAIT);
        assertThat(pids.get(0).pid()).isEqualTo(initPid);
        assertThat(pids).contains(new dev.berth.core.ProcessInfo(execPid, "sleeper", ""));
        exec.kill(Signal.KILL).block(WAIT);
        assertThat(exec.exit().block(WAIT).signal()).contains(Signal.KILL);
        exec.delete().block(WAIT);
        task.kill(Signal.KILL).block(WAIT);
        task.exit().block(WAIT);
        task.delete().block(WAIT);
    }

    @Test
    void anExecReadsItsStdinUntilCloseStdin() {
        Task task = tasks.create(taskSpec("reader", ProcessSpec.of("/bin/sleep", "60"))).block(WAIT);
        task.start().block(WAIT);
        dev.berth.core.Process exec = task.exec("cat", ProcessSpec.builder("/bin/cat")
                .stdio(dev.berth.core.Stdio.DEFAULT.withStdinPipe()).build()).block(WAIT);
        Mono<String> out = text(exec.stdout()).cache();
        out.subscribe();
        exec.start().block(WAIT);
        exec.writeStdin(Flux.just(ByteBuffer.wrap("to the exec\n".getBytes(StandardCharsets.UTF_8)))).block(WAIT);
        assertThat(exec.exit().block(WAIT).isSuccess()).isTrue();
        assertThat(out.block(WAIT)).isEqualTo("to the exec\n");
        exec.delete().block(WAIT);
        task.kill(Signal.KILL).block(WAIT);
        task.exit().block(WAIT);
        task.delete().block(WAIT);
    }

    @Test
    void execOnAStoppedTaskFailsWithFailedPrecondition() {
        Task task = tasks.create(taskSpec("stopped", ProcessSpec.of("/bin/true"))).block(WAIT);
        task.start().then(task.exit()).block(WAIT);
        Throwable error = org.assertj.core.api.Assertions.catchThrowable(() ->
                task.exec("late", ProcessSpec.of("/bin/true")).block(WAIT));
        assertThat(dev.berth.core.Errors.is(error, dev.berth.core.ErrorKind.FAILED_PRECONDITION))
                .as("%s", error).isTrue();
        assertThat(state.resolve(NS).resolve("stopped").resolve("late-stdout")).doesNotExist();
        task.delete().block(WAIT);
    }

    @Test
    void aDuplicateExecIdFailsWithAlreadyExistsAndTheFirstStillWorks() throws IOException {
        Task task = tasks.create(taskSpec("dup", ProcessSpec.of("/bin/sleep", "60"))).block(WAIT);
        task.start().block(WAIT);
        dev.berth.core.Process first = task.exec("twice", ProcessSpec.of("/bin/echo", "first")).block(WAIT);
        Throwable error = org.assertj.core.api.Assertions.catchThrowable(() ->
                task.exec("twice", ProcessSpec.of("/bin/echo", "second")).block(WAIT));
        assertThat(dev.berth.core.Errors.is(error, dev.berth.core.ErrorKind.ALREADY_EXISTS))
                .as("%s", error).isTrue();
        Mono<String> out = text(first.stdout()).cache();
        out.subscribe();
        first.start().block(WAIT);
        assertThat(first.exit().block(WAIT).isSuccess()).isTrue();
        assertThat(out.block(WAIT)).isEqualTo("first\n");
        first.delete().block(WAIT);
        task.kill(Signal.KILL).block(WAIT);
        task.exit().block(WAIT);
        task.delete().block(WAIT);
        assertThat(state.resolve(NS).resolve("dup")).doesNotExist();
        try (Stream<Path> left = Files.list(state.resolve(NS))) {
            assertThat(left.toList()).isEmpty();
        }
        assertThat(ContainerTests.shimsOf(state.toAbsolutePath().normalize().toString())).isEmpty();
    }

    @Test
    void aNeverStartedExecDeletesWithAnEmptyExitAndLeavesNothing() throws IOException {
        Task task = tasks.create(taskSpec("unstarted", ProcessSpec.of("/bin/sleep", "60"))).block(WAIT);
        task.start().block(WAIT);
        dev.berth.core.Process exec = task.exec("idle", ProcessSpec.of("/bin/true")).block(WAIT);
        Mono<ExitStatus> exit = exec.exit();
        assertThat(exec.delete().blockOptional(WAIT)).isEmpty();
        assertThat(exit.blockOptional(WAIT)).isEmpty();
        assertThat(state.resolve(NS).resolve("unstarted").resolve("idle-stdout")).doesNotExist();
        task.kill(Signal.KILL).block(WAIT);
        task.exit().block(WAIT);
        task.delete().block(WAIT);
        assertThat(ContainerTests.shimsOf(state.toAbsolutePath().normalize().toString())).isEmpty();
    }

    /** Pitfall 26: the Wait of an exec whose Start failed never answers; the exec still deletes. */
    @Test
    void anExecOfAMissingProgramFailsStartWithNotFoundAndDeletes() throws IOException {
        Task task = tasks.create(taskSpec("missing", ProcessSpec.of("/bin/sleep", "60"))).block(WAIT);
        task.start().block(WAIT);
        dev.berth.core.Process exec = task.exec("nope", ProcessSpec.of("/bin/no-such-program")).block(WAIT);
        Mono<ExitStatus> exit = exec.exit();
        Throwable error = org.assertj.core.api.Assertions.catchThrowable(() -> exec.start().block(WAIT));
        assertThat(dev.berth.core.Errors.is(error, dev.berth.core.ErrorKind.NOT_FOUND)).as("%s", error).isTrue();
        assertThat(exec.delete().blockOptional(WAIT)).isEmpty();
        assertThat(exit.blockOptional(WAIT)).isEmpty();
        assertThat(state.resolve(NS).resolve("missing").resolve("nope-stdout")).doesNotExist();
        task.kill(Signal.KILL).block(WAIT);
        task.exit().block(WAIT);
        task.delete().block(WAIT);
        assertThat(ContainerTests.shimsOf(state.toAbsolutePath().normalize().toString())).isEmpty();
    }
}
