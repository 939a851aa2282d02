package dev.berth.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.Namespaces;
import dev.berth.core.ProcessSpec;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Stdio;
import dev.berth.core.Task;
import dev.berth.core.TaskSpec;
import dev.berth.shims.testing.BusyboxRootfs;
import dev.berth.shims.testing.ContainerTests;
import dev.berth.shims.v2.ShimV2Runtime;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
 * Two hundred busybox container lifecycles through a {@link TaskManager} over the shim v2 runtime, four at a time,
 * leave nothing behind (DESIGN.md invariant 2): see {@link ContainerLeaks} for what is counted. The lifecycles take
 * turns among six shapes: {@code true} with its output discarded; {@code echo} whose stdout is read; a shell
 * writing to stdout and stderr, both read, exiting 3; {@code cat} on a stdin pipe hosting an {@code echo} exec
 * whose stdout is read, the init ended by closing its stdin; a task deleted without ever starting; and {@code cat}
 * hosting an exec of a missing program, whose start fails NOT_FOUND and which is deleted.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class ShimV2LeakTest {
    static final String NS = "h5-leak";
    static final String SCHEDULERS = "h5leak";
    static final int LIFECYCLES = 200;
    static final int CONCURRENCY = 4;
    static final int SHAPES = 6;
    /** Every shape twice or more: loads the classes, binds the events socket, grows the loops and pools. */
    static final int WARM_UP = 3 * SHAPES;
    static final Duration WAIT = Duration.ofSeconds(30);
    static final Duration ALL = Duration.ofSeconds(180);

    @TempDir
    Path dir;
    Path state;
    Path rootfs;
    RuntimeSchedulers schedulers;
    TaskManager tasks;
    final Set<Path> sockets = ConcurrentHashMap.newKeySet();

    @BeforeEach
    void start() throws IOException {
        ContainerTests.requirePrerequisites("the shim v2 leak test");
        state = dir.resolve("state").toAbsolutePath().normalize();
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
        schedulers = RuntimeSchedulers.create(SCHEDULERS);
        tasks = TaskManager.create(TaskManagerConfig.builder(
                        ShimV2Runtime.create(ShimV2Runtime.Config.defaults(state, schedulers)
                                // No linger: daemons come and go with the tasks, and none may be left.
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

    @Test
    void twoHundredLifecyclesLeaveNothingBehind() throws IOException {
        ContainerLeaks leaks = new ContainerLeaks(state, NS, SCHEDULERS, CONCURRENCY);
        runAll("warm", WARM_UP);
        leaks.baseline();
        sockets.clear();

        long started = System.nanoTime();
        runAll("c", LIFECYCLES);
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        System.err.printf("%d shim v2 lifecycles, %d at a time, took %d ms%n", LIFECYCLES, CONCURRENCY,
                took.toMillis());

        assertThat(sockets).as("the daemons' sockets").isNotEmpty();
        assertThat(tasks.list().contextWrite(Namespaces.with(NS)).collectList().block(WAIT)).isEmpty();
        leaks.assertNothingLeft(sockets);
    }

    /** Runs {@code count} lifecycles, {@link #CONCURRENCY} at a time; each checks its own outcome. */
    private void runAll(String prefix, int count) {
        Flux.range(0, count)
                .flatMap(i -> lifecycle(prefix + i, i), CONCURRENCY)
                .then()
                .block(ALL);
    }

    private Mono<Void> lifecycle(String id, int i) {
        Mono<Void> run = switch (i % SHAPES) {
            case 0 -> discarded(id);
            case 1 -> echoed(id);
            case 2 -> bothStreams(id);
            case 3 -> withExec(id);
            case 4 -> neverStarted(id);
            default -> withFailedExec(id);
        };
        return run.contextWrite(Namespaces.with(NS));
    }

    /** {@code true}, output discarded: the exit only. */
    private Mono<Void> discarded(String id) {
        return create(id, ProcessSpec.builder("/bin/true").stdio(Stdio.NULL).build())
                .flatMap(task -> {
                    Mono<ExitStatus> exit = task.exit();
                    return task.start().then(exit)
                            .doOnNext(s -> assertThat(s.isSuccess()).as("%s: %s", id, s).isTrue())
                            .then(task.delete());
                })
                .then();
    }

    /** {@code echo}, its stdout read whole. */
    private Mono<Void> echoed(String id) {
        return create(id, ProcessSpec.of("/bin/echo", "hello " + id))
                .flatMap(task -> {
                    Mono<ExitStatus> exit = task.exit();
                    return Mono.zip(text(task.stdout()), task.start().then(exit))
                            .doOnNext(t -> {
                                assertThat(t.getT1()).as(id).isEqualTo("hello " + id + "\n");
                                assertThat(t.getT2().isSuccess()).as("%s: %s", id, t.getT2()).isTrue();
                            })
                            .then(task.delete());
                })
                .then();
    }

    /** A shell writing a line to each stream, both read, exiting 3. */
    private Mono<Void> bothStreams(String id) {
        return create(id, ProcessSpec.of("/bin/sh", "-c", "echo out; echo err >&2; exit 3"))
                .flatMap(task -> {
                    Mono<ExitStatus> exit = task.exit();
                    return Mono.zip(text(task.stdout()), text(task.stderr()), task.start().then(exit))
                            .doOnNext(t -> {
                                assertThat(t.getT1()).as(id).isEqualTo("out\n");
                                assertThat(t.getT2()).as(id).isEqualTo("err\n");
                                assertThat(t.getT3().code()).as("%s: %s", id, t.getT3()).hasValue(3);
                            })
                            .then(task.delete());
                })
                .then();
    }

    /**
     * {@code cat} on a stdin pipe, so the init runs until its stdin is closed; meanwhile an {@code echo} exec runs
     * to its end, its stdout read, and is deleted.
     */
    private Mono<Void> withExec(String id) {
        return create(id, ProcessSpec.builder("/bin/cat").stdio(Stdio.DEFAULT.withStdinPipe()).build())
                .flatMap(task -> {
                    Mono<ExitStatus> exit = task.exit();
                    return task.start()
                            .then(task.exec("e", ProcessSpec.of("/bin/echo", "exec of " + id)))
                            .flatMap(exec -> {
                                Mono<ExitStatus> execExit = exec.exit();
                                return Mono.zip(text(exec.stdout()), exec.start().then(execExit))
                                        .doOnNext(t -> {
                                            assertThat(t.getT1()).as(id).isEqualTo("exec of " + id + "\n");
                                            assertThat(t.getT2().isSuccess()).as("%s exec: %s", id, t.getT2())
                                                    .isTrue();
                                        })
                                        .then(exec.delete());
                            })
                            .then(task.closeStdin())
                            .then(exit)
                            .doOnNext(s -> assertThat(s.isSuccess()).as("%s: %s", id, s).isTrue())
                            .then(task.delete());
                })
                .then();
    }

    /** Created and deleted, never started: its exit completes empty. */
    private Mono<Void> neverStarted(String id) {
        return create(id, ProcessSpec.of("/bin/true"))
                .flatMap(task -> {
                    Mono<ExitStatus> exit = task.exit();
                    return task.delete()
                            .doOnNext(s -> {
                                throw new AssertionError(id + " never ran, yet deleted with " + s);
                            })
                            .then(exit.hasElement())
                            .doOnNext(has -> assertThat(has).as("%s: an exit of a task that never ran", id)
                                    .isFalse());
                })
                .then();
    }

    /** An exec of a missing program (pitfall 26: its Wait may never answer) fails to start and is deleted. */
    private Mono<Void> withFailedExec(String id) {
        return create(id, ProcessSpec.builder("/bin/cat").stdio(Stdio.DEFAULT.withStdinPipe()).build())
                .flatMap(task -> {
                    Mono<ExitStatus> exit = task.exit();
                    return task.start()
                            .then(task.exec("missing", ProcessSpec.of("/bin/no-such-program")))
                            .flatMap(exec -> exec.start()
                                    .then(Mono.<Void>error(new AssertionError(id + ": a missing program started")))
                                    .onErrorResume(e -> Errors.is(e, ErrorKind.NOT_FOUND), e -> Mono.empty())
                                    .then(exec.delete()))
                            .then(task.closeStdin())
                            .then(exit)
                            .doOnNext(s -> assertThat(s.isSuccess()).as("%s: %s", id, s).isTrue())
                            .then(task.delete());
                })
                .then();
    }

    /** Creates the task and notes its shim's socket, which must exist while the task does. */
    private Mono<Task> create(String id, ProcessSpec spec) {
        TaskSpec taskSpec = TaskSpec.builder(id, spec).runtime(ShimV2Runtime.NAME).rootfs(rootfs).build();
        Path bundle = state.resolve(NS).resolve(id);
        return tasks.create(taskSpec)
                .flatMap(task -> Mono.fromCallable(() -> {
                            Path socket = ContainerLeaks.socketOf(bundle);
                            assertThat(socket).as("socket of %s", id).exists();
                            sockets.add(socket);
                            return task;
                        })
                        .subscribeOn(schedulers.syscalls()));
    }

    static Mono<String> text(Flux<ByteBuffer> output) {
        return output.reduce(new StringBuilder(), (sb, b) -> sb.append(StandardCharsets.UTF_8.decode(b)))
                .map(StringBuilder::toString)
                .defaultIfEmpty("");
    }
}
