package dev.berth.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.Envelope;
import dev.berth.core.Signal;
import dev.berth.events.EventTypes;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.events.proto.containerd.events.TaskStart;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EventsCommandTest {
    final FakeTaskService service = new FakeTaskService();
    final FakeSignalTrap signals = new FakeSignalTrap();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    int berth(String... args) {
        return new BerthCli(state -> service, new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                Map.<String, String>of()::get, signals).execute(args);
    }

    static Envelope exit(String ns, String id, int code) {
        return new Envelope(Instant.parse("2026-11-23T10:00:00Z"), ns, "/tasks/exit", EventTypes.pack(
                TaskExit.newBuilder().setContainerId(id).setId(id).setPid(42).setExitStatus(code).build()));
    }

    @Test
    void aBadFilterPrintsItsPositionAndExits125() {
        assertThat(berth("events", "topic==/tasks/exit")).isEqualTo(125);
        assertThat(err.toString(StandardCharsets.UTF_8).lines()).singleElement().asString()
                .startsWith("berth: ").contains("position 7");
    }

    @Test
    void matchingEventsArePrintedOneLineEachUntilInterrupted() {
        service.events.tryEmitNext(exit("default", "web", 3));
        service.events.tryEmitNext(new Envelope(Instant.EPOCH, "default", "/tasks/start",
                EventTypes.pack(TaskStart.newBuilder().setContainerId("web").setPid(42).build())));
        service.events.tryEmitNext(exit("other", "db", 0));
        signals.arriving(Signal.INT); // Ctrl-C once the command listens: the replayed events came before
        assertThat(berth("events", "topic==\"/tasks/exit\",namespace==default")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8).lines()).containsExactly(
                "2026-11-23T10:00:00Z default /tasks/exit container_id=web id=web pid=42 exit_status=3");
    }

    @Test
    void jsonPrintsOneObjectPerLine() {
        service.events.tryEmitNext(exit("default", "web", 3));
        service.events.tryEmitComplete();
        assertThat(berth("events", "--json")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8).strip()).isEqualTo(
                "{\"timestamp\":\"2026-11-23T10:00:00Z\",\"namespace\":\"default\",\"topic\":\"/tasks/exit\","
                        + "\"type\":\"containerd.events.TaskExit\",\"event\":{\"container_id\":\"web\",\"id\":\"web\","
                        + "\"pid\":42,\"exit_status\":3}}");
    }
}
