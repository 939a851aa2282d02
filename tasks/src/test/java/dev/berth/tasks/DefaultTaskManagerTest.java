package dev.berth.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Task;
import dev.berth.core.TaskSpec;
import dev.berth.core.TaskStatus;
import dev.berth.shims.Shim;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.publisher.PublisherProbe;
import reactor.test.scheduler.VirtualTimeScheduler;

/** The task manager's logic over a fake runtime: registry, state machine, rollback, close. */
class DefaultTaskManagerTest {
    private static final Duration WAIT = Duration.ofSeconds(5);
    private final FakeShims shims = new FakeShims();
    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final RuntimeSchedulers schedulers = RuntimeSchedulers.forTesting(time);
    private final TaskManager tasks = TaskManager.create(TaskManagerConfig.builder(shims, schedulers)
            .stopGrace(Duration.ofSeconds(5)).build());

    @AfterEach
    void dispose() {
        schedulers.dispose();
        time.dispose();
    }

    @Test
    void cancellingCreateRemovesTheReservation() {
        PublisherProbe<Shim> start = PublisherProbe.of(Mono.never());
        shims.nextCreate(start.mono());
        StepVerifier.create(tasks.create(TaskSpec.process("web", "true")))
                .expectSubscription()
                .thenCancel()
                .verify(WAIT);
        start.assertWasCancelled();
        StepVerifier.create(tasks.create(TaskSpec.process("web", "true"))).expectNextCount(1).expectComplete().verify(WAIT);
    }

    @Test
    void aFailedCreateLeavesNoTask() {
        shims.nextCreate(Mono.error(Errors.notFound("no such program")));
        StepVerifier.create(tasks.create(TaskSpec.process("web", "nope")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
        StepVerifier.create(tasks.get("web"))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
    }

    @Test
    void anUnknownRuntimeFailsWithNotFound() {
        StepVerifier.create(tasks.create(TaskSpec.builder("web", dev.berth.core.ProcessSpec.of("true"))
                        .runtime("io.example.none").build()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
    }

    @Test
    void theExitIsSeenOnlyAfterTheStateIsStopped() {
        Task task = tasks.create(TaskSpec.process("web", "true")).block(WAIT);
        task.start().block(WAIT);
        FakeShims.FakeShim shim = shims.live.get(0);
        StepVerifier.create(task.exit().flatMap(s -> task.status()))
                .then(() -> shim.init.exitWith(ExitStatus.exited(0, Instant.EPOCH)))
                .expectNext(TaskStatus.STOPPED)
                .expectComplete().verify(WAIT);
        StepVerifier.create(task.delete()).expectNextMatches(ExitStatus::isSuccess).expectComplete().verify(WAIT);
        assertThat(shims.live).isEmpty();
    }

    @Test
    void killBeforeStartFailsWithFailedPrecondition() {
        Task task = tasks.create(TaskSpec.process("web", "true")).block(WAIT);
        StepVerifier.create(task.kill(dev.berth.core.Signal.TERM))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
        StepVerifier.create(task.pause())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
    }

    @Test
    void aFailedStartLeavesTheTaskCreated() {
        Task task = tasks.create(TaskSpec.process("web", "true")).block(WAIT);
        shims.live.get(0).init.nextStart = Mono.error(Errors.notFound("gone"));
        StepVerifier.create(task.start())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
        assertThat(task.status().block(WAIT)).isEqualTo(TaskStatus.CREATED);
    }

    @Test
    void closeTerminatesRunningTasksDeletesThemAndClosesTheRuntime() {
        Task task = tasks.create(TaskSpec.process("web", "sleep", "60")).block(WAIT);
        task.start().block(WAIT);
        StepVerifier.create(tasks.close()).expectComplete().verify(WAIT);
        assertThat(shims.live).isEmpty();
        assertThat(shims.closed).isTrue();
        assertThat(task.exit().block(WAIT).signal()).contains(dev.berth.core.Signal.TERM);
        StepVerifier.create(tasks.create(TaskSpec.process("late", "true")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE))
                .verify(WAIT);
    }

    @Test
    void closeKillsATaskThatIgnoresTermWhenTheGraceRunsOutInVirtualTime() {
        Task task = tasks.create(TaskSpec.process("stubborn", "sleep", "60")).block(WAIT);
        task.start().block(WAIT);
        FakeShims.FakeShim shim = shims.live.get(0);
        shim.ignoresTerm = true;
        StepVerifier.create(tasks.close())
                .expectSubscription()
                .then(() -> assertThat(shim.signals).containsExactly(dev.berth.core.Signal.TERM))
                .then(() -> time.advanceTimeBy(Duration.ofSeconds(4)))
                .then(() -> assertThat(shim.signals).containsExactly(dev.berth.core.Signal.TERM))
                .then(() -> time.advanceTimeBy(Duration.ofSeconds(1)))
                .expectComplete().verify(WAIT);
        assertThat(shim.signals).containsExactly(dev.berth.core.Signal.TERM, dev.berth.core.Signal.KILL);
        assertThat(task.exit().block(WAIT).signal()).contains(dev.berth.core.Signal.KILL);
        assertThat(shims.live).isEmpty();
    }

    @Test
    void closeWaitsForACreateUnderWayAndThenStopsTheTaskItMade() {
        reactor.core.publisher.Sinks.One<Shim> pending = reactor.core.publisher.Sinks.one();
        shims.nextCreate(pending.asMono());
        Mono<Task> create = tasks.create(TaskSpec.process("late", "sleep", "60")).cache();
        create.subscribe();
        PublisherProbe<Void> closing = PublisherProbe.of(tasks.close());
        closing.mono().subscribe();
        assertThat(closing.wasSubscribed()).isTrue();
        FakeShims.FakeShim shim = shims.new FakeShim("late");
        shims.live.add(shim);
        pending.tryEmitValue(shim); // the create lands after close began
        StepVerifier.create(create).expectNextCount(1).expectComplete().verify(WAIT);
        StepVerifier.create(tasks.close()).expectComplete().verify(WAIT);
        assertThat(shims.live).isEmpty(); // its task was deleted by close, not left behind
        assertThat(shims.closed).isTrue();
    }
}
