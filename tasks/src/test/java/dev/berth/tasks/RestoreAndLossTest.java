package dev.berth.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.Envelope;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.Namespaces;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Signal;
import dev.berth.core.Task;
import dev.berth.core.TaskSpec;
import dev.berth.core.TaskStatus;
import dev.berth.events.EventTypes;
import dev.berth.events.TaskTopics;
import dev.berth.events.proto.containerd.events.TaskDelete;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.shims.RestoredShim;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** Restore, shim loss and detach-on-close in the task manager, over a fake runtime. */
class RestoreAndLossTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final FakeShims shims = new FakeShims();
    private final RuntimeSchedulers schedulers = RuntimeSchedulers.create("restore-test");
    private TaskManager tasks = manager(ClosePolicy.STOP);

    private TaskManager manager(ClosePolicy policy) {
        return TaskManager.create(TaskManagerConfig.builder(shims, schedulers).closePolicy(policy).build());
    }

    @AfterEach
    void dispose() {
        tasks.close().block(WAIT);
        schedulers.dispose();
    }

    /** Subscribes now and collects the next {@code n} events. */
    private Mono<List<Envelope>> next(int n) {
        Mono<List<Envelope>> events = tasks.events().subscribe().take(n).collectList().cache();
        events.subscribe();
        return events;
    }

    private RestoredShim restorable(String namespace, String id, TaskStatus status, int pid) {
        return new RestoredShim(namespace, TaskSpec.process(id, "sleep", "60"), shims.restorable(id), status, pid);
    }

    @Test
    void aRestoredRunningTaskIsRegisteredInItsNamespaceAndCanBeKilledAndWaited() {
        RestoredShim found = restorable("ops", "web", TaskStatus.RUNNING, 4242);
        shims.toRestore.add(found);
        StepVerifier.create(tasks.restore()).assertNext(t -> {
            assertThat(t.id()).isEqualTo("web");
            assertThat(t.namespace()).isEqualTo("ops");
        }).expectComplete().verify(WAIT);

        Task task = tasks.get("web").contextWrite(Namespaces.with("ops")).block(WAIT);
        assertThat(task.status().block(WAIT)).isEqualTo(TaskStatus.RUNNING);
        assertThat(tasks.list().collectList().block(WAIT)).isEmpty(); // the default namespace has none
        Mono<List<Envelope>> events = next(1);
        task.kill(Signal.KILL).block(WAIT);
        assertThat(task.exit().block(WAIT).signal()).contains(Signal.KILL);
        TaskExit exit = EventTypes.unpack(events.block(WAIT).get(0).event(), TaskExit.class);
        assertThat(exit.getContainerId()).isEqualTo("web");
        assertThat(exit.getPid()).isEqualTo(4242);
        assertThat(exit.getExitStatus()).isEqualTo(128 + 9);
    }

    @Test
    void aTaskThatExitedWhileNobodyOwnedItReportsItsRealExitOnceRestored() {
        RestoredShim found = restorable("default", "batch", TaskStatus.STOPPED, 77);
        ((FakeShims.FakeShim) found.shim()).init.exitWith(ExitStatus.exited(3, Instant.EPOCH));
        shims.toRestore.add(found);
        Mono<List<Envelope>> events = next(2);

        Task task = tasks.restore().single().block(WAIT);
        assertThat(task.status().block(WAIT)).as("stopped as soon as handed out").isEqualTo(TaskStatus.STOPPED);
        assertThat(task.exit().block(WAIT)).isEqualTo(ExitStatus.exited(3, Instant.EPOCH));
        assertThat(task.delete().block(WAIT)).isEqualTo(ExitStatus.exited(3, Instant.EPOCH));

        List<Envelope> got = events.block(WAIT);
        assertThat(got).extracting(Envelope::topic).containsExactly(TaskTopics.EXIT, TaskTopics.DELETE);
        assertThat(EventTypes.unpack(got.get(0).event(), TaskExit.class).getExitStatus()).isEqualTo(3);
        assertThat(EventTypes.unpack(got.get(1).event(), TaskDelete.class).getExitStatus()).isEqualTo(3);
    }

    @Test
    void aTaskFoundStoppedIsHandedOutOnlyOnceItsExitIsApplied() {
        RestoredShim found = restorable("default", "batch", TaskStatus.STOPPED, 77);
        shims.toRestore.add(found);
        StepVerifier.create(tasks.restore())
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(100)) // the Wait's reply has not come yet
                .then(() -> ((FakeShims.FakeShim) found.shim()).init.exitWith(ExitStatus.exited(4, Instant.EPOCH)))
                .assertNext(task -> assertThat(task.status().block(WAIT)).isEqualTo(TaskStatus.STOPPED))
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void restoringAgainReleasesTheSecondHandleAndKeepsTheFirst() {
        shims.toRestore.add(restorable("default", "web", TaskStatus.RUNNING, 10));
        Task first = tasks.restore().single().block(WAIT);
        RestoredShim again = restorable("default", "web", TaskStatus.RUNNING, 10);
        FakeShims.FakeShim second = (FakeShims.FakeShim) again.shim();
        second.detachable = true;
        shims.toRestore.set(0, again);
        StepVerifier.create(tasks.restore()).expectComplete().verify(WAIT);
        assertThat(second.detached).isTrue();
        assertThat(tasks.get("web").block(WAIT)).isSameAs(first);
    }

    @Test
    void aTaskWhoseShimIsLostWhileItRunsExitsUnknownAndIsDeleted() {
        Task task = tasks.create(TaskSpec.process("web", "sleep", "60")).block(WAIT);
        task.start().block(WAIT);
        Mono<List<Envelope>> events = next(2);

        shims.live.get(0).lose();

        assertThat(task.exit().block(WAIT).kind()).isEqualTo(ExitStatus.Kind.UNKNOWN);
        List<Envelope> got = events.block(WAIT);
        assertThat(got).extracting(Envelope::topic).containsExactly(TaskTopics.EXIT, TaskTopics.DELETE);
        assertThat(EventTypes.unpack(got.get(0).event(), TaskExit.class).getExitStatus())
                .isEqualTo(ExitStatus.UNKNOWN_EXIT_CODE);
        StepVerifier.create(tasks.get("web"))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
        StepVerifier.create(task.delete()).expectComplete().verify(WAIT); // nothing left to delete
    }

    @Test
    void aTaskThatExitedBeforeItsShimWasLostKeepsItsExitAndWaitsForItsDelete() {
        Task task = tasks.create(TaskSpec.process("web", "true")).block(WAIT);
        task.start().block(WAIT);
        FakeShims.FakeShim shim = shims.live.get(0);
        shim.init.exitWith(ExitStatus.exited(0, Instant.EPOCH));
        assertThat(task.exit().block(WAIT)).isEqualTo(ExitStatus.exited(0, Instant.EPOCH));
        Mono<List<Envelope>> events = next(1);

        shim.lose(); // no second exit, no invented 255

        assertThat(tasks.get("web").block(WAIT).status().block(WAIT)).isEqualTo(TaskStatus.STOPPED);
        assertThat(task.delete().block(WAIT)).isEqualTo(ExitStatus.exited(0, Instant.EPOCH));
        assertThat(events.block(WAIT)).extracting(Envelope::topic).containsExactly(TaskTopics.DELETE);
    }

    @Test
    void closingWithDetachLetsGoOfTasksThatCanOutliveUsAndStopsTheOthers() {
        tasks = manager(ClosePolicy.DETACH);
        Task container = tasks.create(TaskSpec.process("container", "sleep", "60")).block(WAIT);
        container.start().block(WAIT);
        FakeShims.FakeShim detachable = shims.live.get(0);
        detachable.detachable = true;
        Task host = tasks.create(TaskSpec.process("host", "sleep", "60")).block(WAIT);
        host.start().block(WAIT);
        FakeShims.FakeShim embedded = shims.live.get(1);

        tasks.close().block(WAIT);

        assertThat(detachable.detached).isTrue();
        assertThat(detachable.signals).isEmpty();
        assertThat(embedded.signals).containsExactly(Signal.TERM);
        assertThat(shims.live).isEmpty();
        assertThat(host.exit().block(WAIT).signal()).contains(Signal.TERM);
    }
}
