package dev.berth.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.Signal;
import dev.berth.tasks.TaskManager;
import dev.berth.tasks.remote.PrivateContainerd;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code berth --containerd} against a private containerd daemon, in-process: each command makes its own service
 * over the daemon's socket ({@link BerthCli}'s real factory) and closes it; containers are made both by {@code ctr}
 * and by berth.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ContainerdCliTest {
    static final String NS = "h8-cli";
    static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final PrivateContainerd containerd = new PrivateContainerd(NS);

    record Result(int code, String out, String err) {
    }

    /**
     * The daemon's shims keep runc's state under {@code /run/containerd/runc/<namespace>}, and runc leaves the
     * namespace's directory once its last container is gone: remove ours, empty by now.
     */
    @AfterAll
    static void removeRuncNamespace() throws IOException {
        try {
            Files.deleteIfExists(Path.of("/run/containerd/runc", NS));
        } catch (DirectoryNotEmptyException e) {
            System.err.println("ContainerdCliTest: runc state left in " + e.getFile());
        }
    }

    @AfterEach
    void removeLeftovers() {
        List<String> left = containerd.removeAll(NS);
        if (!left.isEmpty()) {
            System.err.println("ContainerdCliTest: removed leftover containers " + left);
        }
    }

    Result berth(String... args) {
        return berthAt(containerd.socket(), args);
    }

    /** {@code berth --containerd socket -n NS args}. */
    Result berthAt(Path socket, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = berth(socket, out, err, new FakeSignalTrap(), args);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** As main does it (the real containerd factory), over {@code socket} and the test's namespace. */
    int berth(Path socket, OutputStream out, OutputStream err, SignalTrap signals, String... args) {
        List<String> argv = new ArrayList<>(List.of("--containerd", socket.toString(), "--namespace", NS));
        argv.addAll(List.of(args));
        return new BerthCli(state -> Assertions.<TaskManager>fail("the local service was made for " + state),
                new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.<String, String>of()::get, signals)
                .execute(argv.toArray(String[]::new));
    }

    /** The data rows of {@code berth ps}, split on blanks, after checking its header. */
    List<String[]> ps() {
        Result ps = berth("ps");
        assertThat(ps.code()).as(ps.err()).isZero();
        List<String> lines = ps.out().lines().toList();
        assertThat(lines).first().asString().matches("TASK +PID +STATUS +RUNTIME");
        return lines.stream().skip(1).map(line -> line.split(" +")).toList();
    }

    List<String> ctrIds(String what) {
        return PrivateContainerd.ids(containerd.ctr(what, "ls", "-q").orFail(what + " ls").output());
    }

    @Test
    void psListsAContainerCtrRanAndKillRmAndEventsActOnIt() throws Exception {
        containerd.runDetached("h8-ctr1", "/bin/sleep", "100").orFail("ctr run -d");

        List<String[]> rows = ps();
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0)[0]).isEqualTo("h8-ctr1");
        assertThat(Integer.parseInt(rows.get(0)[1])).isPositive();
        assertThat(rows.get(0)[2]).isEqualTo("RUNNING");
        assertThat(rows.get(0)[3]).isEqualTo("io.containerd.runc.v2");

        MultiWatcher out = new MultiWatcher();
        CompletableFuture<String> exited = out.await("/tasks/exit");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ManualSignalTrap signals = new ManualSignalTrap();
        CompletableFuture<Integer> events = CompletableFuture.supplyAsync(() -> berth(containerd.socket(), out, err, signals,
                "events"));
        signals.trapped.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        awaitSubscribed(out);

        Result kill = berth("kill", "-s", "KILL", "h8-ctr1");
        assertThat(kill.code()).as(kill.err()).isZero();
        String seen = exited.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        signals.send(Signal.INT);
        assertThat(events.get(WAIT.toSeconds(), TimeUnit.SECONDS)).as(err.toString(StandardCharsets.UTF_8))
                .isZero();
        assertThat(seen.lines().filter(line -> line.contains(" /tasks/exit "))).singleElement().asString()
                .contains(NS, "container_id=h8-ctr1", "exit_status=137");

        assertThat(ps()).singleElement().satisfies(row -> assertThat(row[2]).isEqualTo("STOPPED"));
        Result rm = berth("rm", "h8-ctr1");
        assertThat(rm.code()).as(rm.err()).isZero();
        assertThat(ctrIds("tasks")).doesNotContain("h8-ctr1");
        assertThat(ps()).isEmpty();
    }

    @Test
    void runRmPrintsTheOutputExitsWithTheCodeAndLeavesNothing() throws Exception {
        String rootfs = containerd.rootfs().toString();

        Result hi = berth("run", "--rm", "--rootfs", rootfs, "h8-run1", "--", "echo", "hi");
        assertThat(hi.code()).as(hi.err()).isZero();
        assertThat(hi.out()).isEqualTo("hi\n");

        Result three = berth("run", "--rootfs", rootfs, "h8-run2", "--", "sh", "-c", "echo oops >&2; exit 3");
        assertThat(three.code()).isEqualTo(3);
        assertThat(three.err()).isEqualTo("oops\n");

        assertThat(ctrIds("tasks")).isEmpty();
        assertThat(ctrIds("containers")).isEmpty();
    }

    @Test
    void aDeadDaemonSocketExits125NamingIt() throws Exception {
        Path none = containerd.dir().resolve("h8-none.sock");
        Result missing = berthAt(none, "ps");
        assertThat(missing.code()).isEqualTo(125);
        assertThat(missing.err()).startsWith("berth: ").contains(none.toString());
        assertThat(missing.out()).isEmpty();
    }

    /**
     * Waits until the events command's daemon-side subscription is live: a subscription has no acknowledgement, so
     * label the namespace (a /namespaces/update event) until one shows, each wait bounded by the event itself.
     */
    private static void awaitSubscribed(MultiWatcher out) throws Exception {
        CompletableFuture<String> update = out.await("/namespaces/update");
        for (int i = 0; i < 60; i++) {
            containerd.ctr("namespaces", "label", NS, "probe=" + i).orFail("ctr namespaces label");
            try {
                update.get(500, TimeUnit.MILLISECONDS);
                return;
            } catch (TimeoutException e) {
                // labelled before the daemon had the subscription: the next label shows
            }
        }
        Assertions.fail("berth events showed none of 60 namespace updates: %s", out.text());
    }

    /** An output stream that keeps what is written and completes each awaited string's future once it appears. */
    static final class MultiWatcher extends OutputStream {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final List<Map.Entry<String, CompletableFuture<String>>> awaited = new ArrayList<>();

        synchronized CompletableFuture<String> await(String text) {
            CompletableFuture<String> seen = new CompletableFuture<>();
            awaited.add(Map.entry(text, seen));
            check();
            return seen;
        }

        @Override
        public synchronized void write(int b) {
            bytes.write(b);
            check();
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
            check();
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }

        private void check() {
            String text = bytes.toString(StandardCharsets.UTF_8);
            awaited.forEach(e -> {
                if (text.contains(e.getKey())) {
                    e.getValue().complete(text);
                }
            });
        }
    }
}
