package dev.berth.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Drives {@link BerthCli} in-process over a {@link FakeTaskService}, capturing stdout and stderr. The fake is also
 * what {@code --containerd} makes, unless {@link #realDaemons}.
 */
final class CliHarness {
    final FakeTaskService service = new FakeTaskService();
    final FakeSignalTrap signals = new FakeSignalTrap();
    final AtomicInteger servicesMade = new AtomicInteger();
    /** The sockets the fake was made for as the containerd service, one per command that made it. */
    final List<Path> sockets = new CopyOnWriteArrayList<>();
    /** Whether {@code --containerd} makes the real service (which checks the socket) instead of the fake. */
    boolean realDaemons;
    final Map<String, String> environment = new HashMap<>();
    InputStream in = new ByteArrayInputStream(new byte[0]);
    boolean root = true;
    private ByteArrayOutputStream out = new ByteArrayOutputStream();
    private ByteArrayOutputStream err = new ByteArrayOutputStream();

    /** Runs {@code berth args} with fresh stdout and stderr. @return the exit code */
    int berth(String... args) {
        out = new ByteArrayOutputStream();
        err = new ByteArrayOutputStream();
        BerthCli cli = new BerthCli(state -> {
            servicesMade.incrementAndGet();
            service.states.add(state);
            return service;
        }, in, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                Map.copyOf(environment)::get, signals)
                .withRoot(root);
        if (!realDaemons) {
            cli = cli.withContainerd(socket -> {
                servicesMade.incrementAndGet();
                sockets.add(socket);
                return service;
            });
        }
        return cli.execute(args);
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    /** Asserts stderr is one {@code berth: } line and returns it. */
    String oneBerthLine() {
        assertThat(err().lines()).singleElement().asString().startsWith("berth: ");
        return err().strip();
    }
}
