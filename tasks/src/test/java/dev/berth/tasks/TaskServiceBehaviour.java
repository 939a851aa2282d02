package dev.berth.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.KillScope;
import dev.berth.core.Namespaces;
import dev.berth.core.Process;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.core.Stdio;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import dev.berth.core.TaskStatus;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import dev.berth.core.RuntimeSchedulers;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The behaviour every {@link TaskService} backend must show. A backend's test extends this class and says how to
 * make a service and how to turn a command line into a {@link TaskSpec} it can run (a host process, or the same
 * command inside a container).
 */
public abstract class TaskServiceBehaviour {
    protected static final Duration WAIT = Duration.ofSeconds(20);

    /** Threads of a bounded pool may appear up to its cap; they are not a per-task leak. */
    protected static final String POOL_THREAD_PREFIX = "berth-syscalls";

    protected TaskService tasks;

    /**
     * How many times the suite's loops of whole lifecycles go round, given the count a host-process backend runs.
     * A backend whose lifecycle is much dearer (a container: a shim daemon and runc per task) may lower it for run
     * time; what the loops check (every exit seen, nothing leaked) holds for any count.
     */
    protected int lifecycleCount(int usual) {
        return usual;
    }

    /** A fresh service for one test; the suite closes it after the test. */
    protected abstract TaskService newService();

    /** A task running {@code spec}; backends may add a runtime or a rootfs. */
    protected TaskSpec taskSpec(String id, ProcessSpec spec) {
        return TaskSpec.of(id, spec);
    }

    @BeforeEach
    void openService() {
        tasks = newService();
    }

    @AfterEach
    void closeService() {
        if (tasks == null) {
            return; // the backend's set-up aborted the test
        }
        StepVerifier.create(tasks.close()).expectComplete().verify(WAIT);
    }

    protected Task create(String id, String... args) {
        return create(id, ProcessSpec.of(args));
    }

    protected Task create(String id, ProcessSpec spec) {
        return tasks.create(taskSpec(id, spec)).block(WAIT);
    }

    protected static Mono<String> text(Flux<ByteBuffer> output) {
        return output.reduce(new StringBuilder(), (sb, b) -> sb.append(StandardCharsets.UTF_8.decode(b)))
                .map(StringBuilder::toString)
                .defaultIfEmpty("");
    }

    /** Runs a task to its end: exit subscribed before start, then delete. */
    protected ExitStatus run(String id, ProcessSpec spec) {
        return tasks.create(taskSpec(id, spec))
                .flatMap(task -> {
                    Mono<ExitStatus> exit = task.exit();
                    return task.start().then(exit).flatMap(status -> task.delete().thenReturn(status));
                })
                .block(WAIT);
    }

    @Test
    void exitCodeSevenIsReportedAsSeven() {
        ExitStatus status = run("seven", ProcessSpec.of("sh", "-c", "exit 7"));
        assertThat(status.code()).hasValue(7);
        assertThat(status.signal()).isEmpty();
    }

    @Test
    void exitSubscribedBeforeStartSeesEveryExitOfTrueAThousandTimesInARow() {
        for (int i = 0; i < lifecycleCount(1000); i++) {
            ExitStatus status = run("true-" + i, ProcessSpec.builder("true").stdio(Stdio.NULL).build());
            assertThat(status.isSuccess()).as("run %d", i).isTrue();
        }
    }

    @Test
    void lateSubscribersAllGetTheCachedStatus() {
        Task task = create("late", "sh", "-c", "exit 3");
        ExitStatus first = task.start().then(task.exit()).block(WAIT);
        for (int i = 0; i < 3; i++) {
            StepVerifier.create(task.exit()).expectNext(first).expectComplete().verify(WAIT);
        }
        assertThat(first.code()).hasValue(3);
        StepVerifier.create(task.delete()).expectNext(first).expectComplete().verify(WAIT);
    }

    /** KILL, not TERM: a container's PID 1 ignores a signal it has no handler for, so TERM proves nothing there. */
    @Test
    void killBySignalIsReportedAsThatSignal() {
        Task task = create("killed", "sleep", "60");
        task.start().block(WAIT);
        task.kill(Signal.KILL).block(WAIT);
        ExitStatus status = task.exit().block(WAIT);
        assertThat(status.signal()).contains(Signal.KILL);
        assertThat(status.code()).isEmpty();
        assertThat(status.toShellCode()).isEqualTo(137);
        task.delete().block(WAIT);
    }

    @Test
    void aFastWritersTenMebibytesArriveWhole() {
        int size = 10 * 1024 * 1024;
        byte[] line = "0123456789abcde\n".getBytes(StandardCharsets.US_ASCII);
        Task task = create("fast", "sh", "-c", "yes 0123456789abcde | head -c " + size);
        AtomicLong offset = new AtomicLong();
        AtomicLong wrong = new AtomicLong();
        Mono<Long> count = task.stdout()
                .doOnNext(b -> {
                    long at = offset.get();
                    for (int i = b.position(); i < b.limit(); i++, at++) {
                        if (b.get(i) != line[(int) (at % line.length)]) {
                            wrong.incrementAndGet();
                        }
                    }
                    offset.set(at);
                })
                .reduce(0L, (n, b) -> n + b.remaining());
        ExitStatus status = task.start().then(Mono.zip(count, task.exit())).map(t -> {
            assertThat(t.getT1()).isEqualTo(size);
            return t.getT2();
        }).block(WAIT);
        assertThat(wrong.get()).isZero();
        assertThat(status.isSuccess()).isTrue();
        task.delete().block(WAIT);
    }

    @Test
    void outputContentArrivesInOrder() {
        int lines = 200_000;
        Task task = create("ordered", "seq", "1", String.valueOf(lines));
        String out = task.start().then(text(task.stdout())).block(WAIT);
        String[] got = out.split("\n");
        assertThat(got).hasSize(lines);
        for (int i = 0; i < lines; i++) {
            if (!got[i].equals(String.valueOf(i + 1))) {
                throw new AssertionError("line " + (i + 1) + " is " + got[i]);
            }
        }
        task.exit().then(task.delete()).block(WAIT);
    }

    @Test
    void catWithAShortStdinEnds() {
        Task task = create("cat", ProcessSpec.builder("cat").stdio(Stdio.DEFAULT.withStdinPipe()).build());
        Mono<Void> input = task.writeStdin(Flux.just(ByteBuffer.wrap("hello\n".getBytes(StandardCharsets.UTF_8))));
        Mono<String> out = text(task.stdout());
        String result = Mono.zip(out, input.then(Mono.just(true)), task.start())
                .map(t -> t.getT1())
                .block(WAIT);
        assertThat(result).isEqualTo("hello\n");
        assertThat(task.exit().block(WAIT).isSuccess()).isTrue();
        task.delete().block(WAIT);
    }

    @Test
    void closingStdinBeforeStartTakesEffectAtStart() {
        Task task = create("cat-closed", ProcessSpec.builder("cat").stdio(Stdio.DEFAULT.withStdinPipe()).build());
        task.closeStdin().block(WAIT);
        Mono<String> out = text(task.stdout());
        String result = task.start().then(out).block(WAIT);
        assertThat(result).isEmpty();
        assertThat(task.exit().block(WAIT).isSuccess()).isTrue();
        task.delete().block(WAIT);
    }

    @Test
    void execExitIsSeparateFromTheInitExit() {
        Task task = create("exec-host", "sleep", "60");
        task.start().block(WAIT);
        Process exec = task.exec("e1", ProcessSpec.of("sh", "-c", "exit 5")).block(WAIT);
        Mono<ExitStatus> execExit = exec.exit();
        exec.start().block(WAIT);
        assertThat(execExit.block(WAIT).code()).hasValue(5);
        assertThat(task.status().block(WAIT)).isEqualTo(TaskStatus.RUNNING);
        StepVerifier.create(exec.delete()).expectNextMatches(s -> s.code().orElse(-1) == 5).expectComplete().verify(WAIT);
        task.kill(Signal.KILL).block(WAIT);
        assertThat(task.exit().block(WAIT).signal()).contains(Signal.KILL);
        task.delete().block(WAIT);
    }

    @Test
    void killAllReachesTheExecsToo() {
        Task task = create("kill-all", "sleep", "60");
        task.start().block(WAIT);
        Process exec = task.exec("e1", ProcessSpec.of("sleep", "60")).block(WAIT);
        exec.start().block(WAIT);
        task.kill(Signal.KILL, KillScope.ALL).block(WAIT);
        assertThat(exec.exit().block(WAIT).signal()).contains(Signal.KILL);
        assertThat(task.exit().block(WAIT).signal()).contains(Signal.KILL);
        task.delete().block(WAIT);
    }

    @Test
    void deleteOfARunningTaskFailsTypedAndForceDeleteKillsIt() {
        Task task = create("running", "sleep", "60");
        task.start().block(WAIT);
        StepVerifier.create(task.delete())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
        assertThat(task.status().block(WAIT)).isEqualTo(TaskStatus.RUNNING);
        StepVerifier.create(task.delete(true))
                .expectNextMatches(s -> s.signal().equals(java.util.Optional.of(Signal.KILL)))
                .expectComplete().verify(WAIT);
        StepVerifier.create(tasks.get("running"))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
    }

    @Test
    void aMissingBinaryFailsCreateTypedAndLeavesNoTask() {
        StepVerifier.create(tasks.create(taskSpec("missing", ProcessSpec.of("/nonexistent/berth-no-such-program"))))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
        StepVerifier.create(tasks.create(taskSpec("missing", ProcessSpec.of("berth-no-such-program-on-path"))))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
        StepVerifier.create(tasks.get("missing"))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
        assertThat(tasks.list().collectList().block(WAIT)).isEmpty();
    }

    @Test
    void startingTwiceFailsWithFailedPrecondition() {
        Task task = create("twice", "sleep", "60");
        task.start().block(WAIT);
        StepVerifier.create(task.start())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
        task.delete(true).block(WAIT);
    }

    @Test
    void execOnAStoppedTaskFailsWithFailedPrecondition() {
        Task task = create("stopped", "true");
        task.start().then(task.exit()).block(WAIT);
        StepVerifier.create(task.exec("e1", ProcessSpec.of("true")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
        task.delete().block(WAIT);
    }

    @Test
    void aDuplicateIdFailsWithAlreadyExistsButAnotherNamespaceMayUseIt() {
        Task task = create("dup", "true");
        StepVerifier.create(tasks.create(taskSpec("dup", ProcessSpec.of("true"))))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.ALREADY_EXISTS))
                .verify(WAIT);
        Task other = tasks.create(taskSpec("dup", ProcessSpec.of("true")))
                .contextWrite(Namespaces.with("other")).block(WAIT);
        assertThat(other.namespace()).isEqualTo("other");
        assertThat(tasks.list().map(Task::id).collectList().block(WAIT)).containsExactly("dup");
        assertThat(tasks.list().contextWrite(Namespaces.with("other")).map(Task::namespace).collectList()
                .block(WAIT)).containsExactly("other");
        task.delete().block(WAIT);
        other.delete().contextWrite(Namespaces.with("other")).block(WAIT);
    }

    @Test
    void invalidIdsAndNamespacesFailWithInvalidArgument() {
        for (String id : List.of("", "a b", "-a", "a..b", "x".repeat(77), "ünï")) {
            StepVerifier.create(tasks.create(taskSpec(id, ProcessSpec.of("true"))))
                    .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                    .verify(WAIT);
        }
        StepVerifier.create(tasks.list().contextWrite(ctx -> ctx.put(Namespaces.KEY, "bad ns")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(WAIT);
        StepVerifier.create(tasks.create(taskSpec("ok", ProcessSpec.of("true")))
                        .contextWrite(ctx -> ctx.put(Namespaces.KEY, "bad/ns")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(WAIT);
    }

    @Test
    void pauseAndResumeChangeTheStatus() {
        Task task = create("pause", "sleep", "60");
        task.start().block(WAIT);
        task.pause().block(WAIT);
        assertThat(task.status().block(WAIT)).isEqualTo(TaskStatus.PAUSED);
        StepVerifier.create(task.pause())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
        task.resume().block(WAIT);
        assertThat(task.status().block(WAIT)).isEqualTo(TaskStatus.RUNNING);
        task.delete(true).block(WAIT);
    }

    @Test
    void pidsListTheInitFirst() {
        Task task = create("pids", "sleep", "60");
        int pid = task.start().block(WAIT);
        assertThat(task.pids().collectList().block(WAIT)).first().matches(p -> p.pid() == pid);
        task.delete(true).block(WAIT);
        StepVerifier.create(task.pids())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
    }

    @Test
    void aSecondSubscriptionToStdoutFailsWithFailedPrecondition() {
        Task task = create("twice-out", "true");
        Mono<String> first = text(task.stdout());
        StepVerifier.create(task.stdout())
                .expectSubscription()
                .thenCancel()
                .verify(WAIT);
        StepVerifier.create(task.stdout())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
        task.start().then(task.exit()).block(WAIT);
        task.delete().block(WAIT);
        assertThat(first).isNotNull();
    }

    @Test
    void aDeletedNeverStartedTaskCompletesItsExitEmpty() {
        Task task = create("never", "true");
        StepVerifier.create(task.delete()).expectComplete().verify(WAIT);
        StepVerifier.create(task.exit()).expectComplete().verify(WAIT);
        StepVerifier.create(task.delete()).expectComplete().verify(WAIT);
    }

    @Test
    void fiveHundredLifecyclesLeaveDescriptorsThreadsAndChildrenWhereTheyStarted() throws IOException {
        TaskService service = tasks;
        Runnable lifecycle = () -> service.create(taskSpec("cycle", ProcessSpec.of("sh", "-c", "echo out; echo err >&2")))
                .flatMap(task -> {
                    Mono<ExitStatus> exit = task.exit();
                    return Mono.zip(text(task.stdout()), text(task.stderr()), task.start().then(exit))
                            .flatMap(t -> task.delete().thenReturn(t.getT3()));
                })
                .block(WAIT);
        for (int i = 0; i < 20; i++) {
            lifecycle.run(); // warm up: the loop, the syscall workers, class loading
        }
        long fds = openDescriptors();
        long threads = threadsOutsideThePool();
        for (int i = 0; i < lifecycleCount(500); i++) {
            lifecycle.run();
        }
        assertThat(openDescriptors()).isLessThanOrEqualTo(fds);
        assertThat(threadsOutsideThePool()).isLessThanOrEqualTo(threads);
        // The syscall pool is bounded: it may have grown to its cap, never past it.
        assertThat(Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(POOL_THREAD_PREFIX)).count())
                .isLessThanOrEqualTo(RuntimeSchedulers.DEFAULT_SYSCALL_THREADS);
        assertThat(childrenOfThisJvm()).isEmpty();
    }

    private static long threadsOutsideThePool() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !t.getName().startsWith(POOL_THREAD_PREFIX))
                .count();
    }

    private static long openDescriptors() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }


    /** Live or zombie children of this JVM, from /proc. */
    protected static List<Long> childrenOfThisJvm() throws IOException {
        long self = ProcessHandle.current().pid();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            return s.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                    .filter(p -> parentOf(p) == self)
                    .map(p -> Long.parseLong(p.getFileName().toString()))
                    .toList();
        }
    }

    private static long parentOf(Path proc) {
        try {
            String stat = Files.readString(proc.resolve("stat"));
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
        } catch (IOException | RuntimeException gone) {
            return -1;
        }
    }

}
