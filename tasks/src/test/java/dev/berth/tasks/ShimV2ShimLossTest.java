package dev.berth.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.Envelope;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.Namespaces;
import dev.berth.core.ProcessSpec;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Stdio;
import dev.berth.core.Task;
import dev.berth.core.TaskSpec;
import dev.berth.events.EventTypes;
import dev.berth.events.TaskTopics;
import dev.berth.events.proto.containerd.events.TaskCreate;
import dev.berth.events.proto.containerd.events.TaskDelete;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.events.proto.containerd.events.TaskStart;
import dev.berth.shims.testing.BusyboxRootfs;
import dev.berth.shims.testing.ContainerTests;
import dev.berth.shims.v2.ShimV2Runtime;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * The loss of a task's shim, seen through a {@link TaskManager} over the shim v2 runtime: the shim daemon of a
 * busybox container is sent SIGKILL. A task still running then ends as containerd ends it after a dead shim: one
 * {@code /tasks/exit} with status 255 (unknown), then {@code /tasks/delete}, and nothing of it left. A task that had
 * exited before keeps its real exit, gets no second {@code /tasks/exit}, and still deletes.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class ShimV2ShimLossTest {
    static final String NS = "h5-lost";
    static final String SCHEDULERS = "h5lost";
    static final Duration WAIT = Duration.ofSeconds(30);
    /**
     * JDK process reapers in use at once: one for the runtime's own children (a shim's {@code start} or
     * {@code delete} action) and one while this test waits for the exit of a process that is not its child.
     */
    static final int REAPERS = 2;

    @TempDir
    Path dir;
    Path state;
    Path rootfs;
    TaskManager tasks;
    /** Every event of {@link #NS}, in publication order, recorded from set-up on. */
    final List<Envelope> seen = new CopyOnWriteArrayList<>();
    Flux<Envelope> recorded;
    Disposable recording;

    @BeforeEach
    void start() throws IOException {
        ContainerTests.requirePrerequisites("the shim loss test");
        state = dir.resolve("state").toAbsolutePath().normalize();
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
        RuntimeSchedulers schedulers = RuntimeSchedulers.create(SCHEDULERS);
        tasks = TaskManager.create(TaskManagerConfig.builder(
                        ShimV2Runtime.create(ShimV2Runtime.Config.defaults(state, schedulers)), schedulers)
                .ownsSchedulers(true)
                .build());
        recorded = tasks.events().subscribe()
                .filter(e -> e.namespace().equals(NS))
                .doOnNext(seen::add)
                .replay()
                .autoConnect(0, d -> recording = d);
    }

    @AfterEach
    void closeAndCleanUp() throws Exception {
        if (state == null) {
            return;
        }
        try {
            if (recording != null) {
                recording.dispose();
            }
            if (tasks != null) {
                tasks.close().block(WAIT);
            }
        } finally {
            ContainerTests.removeLeftovers(state);
        }
    }

    @Test
    void aRunningTasksShimKilledGivesOneUnknownExitThenADeleteAndLeavesNothing() throws Exception {
        ContainerLeaks leaks = warmUp();
        Task task = create("victim", ProcessSpec.of("/bin/sleep", "60"));
        Path socket = ContainerLeaks.socketOf(state.resolve(NS).resolve("victim"));
        int pid = task.start().block(WAIT);

        ProcessHandle shim = shimOf("victim");
        shim.destroyForcibly(); // SIGKILL: not our child, so nothing of ours reaps it

        StepVerifier.create(task.exit())
                .assertNext(s -> {
                    assertThat(s.kind()).isEqualTo(ExitStatus.Kind.UNKNOWN);
                    assertThat(s.toShellCode()).isEqualTo(ExitStatus.UNKNOWN_EXIT_CODE);
                })
                .expectComplete()
                .verify(WAIT);
        StepVerifier.create(recorded.filter(e -> containerId(e).equals("victim")).map(Envelope::topic))
                .expectNext(TaskTopics.CREATE, TaskTopics.START, TaskTopics.EXIT, TaskTopics.DELETE)
                .thenCancel()
                .verify(WAIT);
        StepVerifier.create(tasks.get("victim").contextWrite(Namespaces.with(NS)))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
        assertThat(tasks.list().contextWrite(Namespaces.with(NS)).collectList().block(WAIT)).isEmpty();
        StepVerifier.create(task.delete()).expectComplete().verify(WAIT);
        assertThat(stateOf(pid)).as("state of the container's init, pid %d", pid).isIn("gone", "Z", "X");

        // Nothing else was published for it meanwhile: one exit, unknown, then the delete with that status.
        List<Envelope> events = eventsOf("victim");
        assertThat(events).extracting(Envelope::topic)
                .containsExactly(TaskTopics.CREATE, TaskTopics.START, TaskTopics.EXIT, TaskTopics.DELETE);
        TaskExit exit = EventTypes.unpack(events.get(2).event(), TaskExit.class);
        assertThat(exit.getId()).isEqualTo("victim");
        assertThat(exit.getPid()).isEqualTo(pid);
        assertThat(exit.getExitStatus()).isEqualTo(ExitStatus.UNKNOWN_EXIT_CODE);
        TaskDelete delete = EventTypes.unpack(events.get(3).event(), TaskDelete.class);
        assertThat(delete.getPid()).isEqualTo(pid);
        assertThat(delete.getExitStatus()).isEqualTo(ExitStatus.UNKNOWN_EXIT_CODE);
        leaks.assertNothingLeft(List.of(socket));
    }

    @Test
    void anExitedTasksShimKilledKeepsTheRealExitPublishesNoSecondExitAndStillDeletes() throws Exception {
        ContainerLeaks leaks = warmUp();
        Task task = create("exited", ProcessSpec.builder("/bin/sh", "-c", "exit 3").stdio(Stdio.NULL).build());
        Path socket = ContainerLeaks.socketOf(state.resolve(NS).resolve("exited"));
        int pid = task.start().block(WAIT);
        assertThat(task.exit().block(WAIT).code()).hasValue(3);

        ProcessHandle shim = shimOf("exited");
        shim.destroyForcibly();
        shim.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS);

        StepVerifier.create(task.exit()).assertNext(s -> assertThat(s.code()).hasValue(3)).expectComplete()
                .verify(WAIT);
        StepVerifier.create(task.delete()).assertNext(s -> assertThat(s.code()).hasValue(3)).expectComplete()
                .verify(WAIT);
        StepVerifier.create(tasks.get("exited").contextWrite(Namespaces.with(NS)))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
        // Events reach subscribers on the events thread: wait for the delete before looking at what came first.
        StepVerifier.create(recorded.filter(e -> containerId(e).equals("exited")).map(Envelope::topic))
                .expectNext(TaskTopics.CREATE, TaskTopics.START, TaskTopics.EXIT, TaskTopics.DELETE)
                .thenCancel()
                .verify(WAIT);

        List<Envelope> events = eventsOf("exited");
        assertThat(events).extracting(Envelope::topic)
                .containsExactly(TaskTopics.CREATE, TaskTopics.START, TaskTopics.EXIT, TaskTopics.DELETE);
        TaskExit exit = EventTypes.unpack(events.get(2).event(), TaskExit.class);
        assertThat(exit.getPid()).isEqualTo(pid);
        assertThat(exit.getExitStatus()).isEqualTo(3);
        assertThat(EventTypes.unpack(events.get(3).event(), TaskDelete.class).getExitStatus()).isEqualTo(3);
        leaks.assertNothingLeft(List.of(socket));
    }

    /**
     * One whole lifecycle (the events socket bound, the loops and pools grown, the classes loaded), then the
     * baseline. Its events are those of another id.
     */
    private ContainerLeaks warmUp() throws IOException {
        Task task = create("warm", ProcessSpec.builder("/bin/true").stdio(Stdio.NULL).build());
        task.start().then(task.exit()).then(task.delete()).block(WAIT);
        ContainerLeaks leaks = new ContainerLeaks(state, NS, SCHEDULERS, REAPERS);
        leaks.baseline();
        return leaks;
    }

    private Task create(String id, ProcessSpec spec) {
        return tasks.create(TaskSpec.builder(id, spec).runtime(ShimV2Runtime.NAME).rootfs(rootfs).build())
                .contextWrite(Namespaces.with(NS))
                .block(WAIT);
    }

    /**
     * The live shim serving task {@code id}: the one daemon of this test's state directory (a pooled daemon starts
     * a second one only while the first is busy, and these tests run one task at a time).
     */
    private ProcessHandle shimOf(String id) throws IOException {
        assertThat(state.resolve(NS).resolve(id).resolve("address")).as("task %s has a daemon", id).exists();
        List<ProcessHandle> found = ContainerTests.shimsOf(state.toString());
        assertThat(found).as("shims serving task %s", id).hasSize(1);
        return found.get(0);
    }

    /**
     * The state letter of process {@code pid} ({@code /proc/<pid>/stat}), or "gone". A killed container init that
     * is a zombie is dead: it was reparented to PID 1 when its shim died, and reaping it is PID 1's business (here
     * it reaps orphans every second or so).
     */
    private static String stateOf(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[0];
        } catch (IOException gone) {
            return "gone";
        }
    }

    private List<Envelope> eventsOf(String id) {
        return seen.stream().filter(e -> containerId(e).equals(id)).toList();
    }

    private static String containerId(Envelope e) {
        return switch (e.topic()) {
            case TaskTopics.CREATE -> EventTypes.unpack(e.event(), TaskCreate.class).getContainerId();
            case TaskTopics.START -> EventTypes.unpack(e.event(), TaskStart.class).getContainerId();
            case TaskTopics.EXIT -> EventTypes.unpack(e.event(), TaskExit.class).getContainerId();
            case TaskTopics.DELETE -> EventTypes.unpack(e.event(), TaskDelete.class).getContainerId();
            default -> "";
        };
    }
}
