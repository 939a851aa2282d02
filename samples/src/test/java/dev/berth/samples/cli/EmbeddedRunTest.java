package dev.berth.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.Berth;
import dev.berth.LocalConfig;
import dev.berth.tasks.ClosePolicy;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code berth run} end to end over the real embedded runtime. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EmbeddedRunTest {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    int berth(String... args) {
        // Over both local runtimes, as main does: an embedded run must not need the state directory, so it points
        // at one that cannot be created.
        return new BerthCli(state -> Berth.local(LocalConfig.of(Path.of("/proc/berth-no-such-state"))
                        .withClosePolicy(ClosePolicy.DETACH)),
                new ByteArrayInputStream("piped\n".getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                Map.<String, String>of()::get, new FakeSignalTrap()).execute(args);
    }

    @Test
    void runPrintsTheOutputAndExitsWithTheTasksCode() {
        assertThat(berth("run", "--rm", "hello", "--", "sh", "-c", "echo hello; echo oops >&2; exit 7")).isEqualTo(7);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("hello\n");
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("oops\n");
    }

    @Test
    void interactiveRunForwardsStdin() {
        assertThat(berth("run", "-i", "cat", "--", "cat")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("piped\n");
    }

    @Test
    void eventsShowTheTasksLifecycleOnStderrInOrder() {
        assertThat(berth("run", "--events", "web", "--", "true")).isZero();
        List<String> topics = err.toString(StandardCharsets.UTF_8).lines()
                .map(line -> line.split(" ")[2]).toList();
        assertThat(topics).containsExactly("/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete");
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("container_id=web");
    }

    @Test
    void aCommandThatIsNotFoundExits127AndOneThatCannotRunExits126() {
        assertThat(berth("run", "nf", "--", "berth-no-such-command")).isEqualTo(127);
        assertThat(berth("run", "nx", "--", "/etc/hostname")).isEqualTo(126);
    }
}
