package dev.berth.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.Berth;
import dev.berth.core.Envelope;
import dev.berth.core.ExitStatus;
import dev.berth.core.Process;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.core.Stdio;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import dev.berth.events.EventTypes;
import dev.berth.events.TaskTopics;
import dev.berth.events.proto.containerd.events.TaskDelete;
import dev.berth.events.proto.containerd.events.TaskExecStarted;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.events.proto.containerd.events.TaskStart;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The task manager's lifecycle events: fields, order per task, nothing lost or doubled. */
class LifecycleEventsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private final TaskService tasks = Berth.embedded();

    @AfterEach
    void close() {
        tasks.close().block(WAIT);
    }

    /** Subscribes now and collects the next {@code n} events. */
    private Mono<List<Envelope>> next(int n) {
        Mono<List<Envelope>> events = tasks.events().subscribe().take(n).collectList().cache();
        events.subscribe();
        return events;
    }

    private static String containerId(Envelope e) {
        return switch (e.topic()) {
            case TaskTopics.EXIT -> EventTypes.unpack(e.event(), TaskExit.class).getContainerId();
            case TaskTopics.START -> EventTypes.unpack(e.event(), TaskStart.class).getContainerId();
            case TaskTopics.DELETE -> EventTypes.unpack(e.event(), TaskDelete.class).getContainerId();
            default -> EventTypes.unpack(e.event(),
                    dev.berth.events.proto.containerd.events.TaskCreate.class).getContainerId();
        };
    }

    private ExitStatus run(String id, ProcessSpec spec) {
        return tasks.create(TaskSpec.of(id, spec))
                .flatMap(task -> task.start().then(task.exit()).flatMap(s -> task.delete().thenReturn(s)))
                .block(WAIT);
    }

    @Test
    void aTaskPublishesCreateStartExitDeleteWithContainerdsFields() {
        Mono<List<Envelope>> events = next(4);
        ExitStatus status = run("web", ProcessSpec.builder("sh", "-c", "exit 3").stdio(Stdio.NULL).build());
        List<Envelope> got = events.block(WAIT);
        assertThat(got).extracting(Envelope::topic)
                .containsExactly(TaskTopics.CREATE, TaskTopics.START, TaskTopics.EXIT, TaskTopics.DELETE);
        assertThat(got).allMatch(e -> e.namespace().equals("default"))
                .allMatch(e -> e.event().getTypeUrl().startsWith("containerd.events.Task"));
        int pid = EventTypes.unpack(got.get(1).event(), TaskStart.class).getPid();
        TaskExit exit = EventTypes.unpack(got.get(2).event(), TaskExit.class);
        assertThat(exit.getContainerId()).isEqualTo("web");
        assertThat(exit.getId()).isEqualTo("web");
        assertThat(exit.getPid()).isEqualTo(pid).isPositive();
        assertThat(exit.getExitStatus()).isEqualTo(3);
        assertThat(exit.getExitedAt().getSeconds()).isEqualTo(status.exitedAt().getEpochSecond());
        TaskDelete delete = EventTypes.unpack(got.get(3).event(), TaskDelete.class);
        assertThat(delete.getPid()).isEqualTo(pid);
        assertThat(delete.getExitStatus()).isEqualTo(3);
        assertThat(delete.getId()).isEmpty();
    }

    @Test
    void eightConcurrentTasksEachKeepTheirOrder() {
        int n = 8;
        Mono<List<Envelope>> events = next(4 * n);
        Flux.range(0, n)
                .flatMap(i -> tasks.create(TaskSpec.of("t" + i, ProcessSpec.builder("true").stdio(Stdio.NULL).build()))
                        .flatMap(task -> task.start().then(task.exit()).then(task.delete())))
                .blockLast(WAIT);
        Map<String, List<String>> perTask = events.block(WAIT).stream()
                .collect(Collectors.groupingBy(LifecycleEventsTest::containerId,
                        Collectors.mapping(Envelope::topic, Collectors.toList())));
        assertThat(perTask).hasSize(n);
        perTask.forEach((id, topics) -> assertThat(topics).as(id)
                .containsExactly(TaskTopics.CREATE, TaskTopics.START, TaskTopics.EXIT, TaskTopics.DELETE));
    }

    @Test
    void anExecsExitComesBeforeTheInitsExit() {
        Task task = tasks.create(TaskSpec.process("host", "sleep", "60")).block(WAIT);
        task.start().block(WAIT);
        Process exec = task.exec("e1", ProcessSpec.of("sleep", "60")).block(WAIT);
        Mono<List<Envelope>> events = next(3);
        exec.start().block(WAIT);
        task.kill(Signal.KILL).block(WAIT); // the task ends with its init: the exec goes with it
        task.exit().block(WAIT);
        List<Envelope> got = events.block(WAIT);
        assertThat(got).extracting(Envelope::topic)
                .containsExactly(TaskTopics.EXEC_STARTED, TaskTopics.EXIT, TaskTopics.EXIT);
        assertThat(EventTypes.unpack(got.get(1).event(), TaskExit.class).getId()).isEqualTo("e1");
        assertThat(EventTypes.unpack(got.get(2).event(), TaskExit.class).getId()).isEqualTo("host");
        assertThat(exec.exit().block(WAIT).signal()).contains(Signal.KILL);
        task.delete().block(WAIT);
    }

    @Test
    void noExitIsLostOrPublishedTwiceInAThousandLifecycles() {
        int n = 1000;
        Mono<List<Envelope>> events = next(4 * n);
        for (int i = 0; i < n; i++) {
            run("c" + i, ProcessSpec.builder("true").stdio(Stdio.NULL).build());
        }
        Map<String, Long> counts = new HashMap<>();
        events.block(WAIT).forEach(e -> counts.merge(e.topic() + " " + containerId(e), 1L, Long::sum));
        assertThat(counts).hasSize(4 * n).allSatisfy((key, count) -> assertThat(count).as(key).isEqualTo(1));
    }

    @Test
    void execAddedPausedAndResumedArePublished() {
        Task task = tasks.create(TaskSpec.process("p", "sleep", "60")).block(WAIT);
        task.start().block(WAIT);
        Mono<List<Envelope>> events = next(4);
        task.pause().then(task.resume()).block(WAIT);
        Process exec = task.exec("e2", ProcessSpec.builder("true").stdio(Stdio.NULL).build()).block(WAIT);
        int pid = exec.start().block(WAIT);
        List<Envelope> got = events.block(WAIT);
        assertThat(got).extracting(Envelope::topic).containsExactly(TaskTopics.PAUSED, TaskTopics.RESUMED,
                TaskTopics.EXEC_ADDED, TaskTopics.EXEC_STARTED);
        TaskExecStarted started = EventTypes.unpack(got.get(3).event(), TaskExecStarted.class);
        assertThat(started.getExecId()).isEqualTo("e2");
        assertThat(started.getPid()).isEqualTo(pid);
        task.delete(true).block(WAIT);
    }
}
