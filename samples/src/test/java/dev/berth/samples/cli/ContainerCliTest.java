package dev.berth.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.Berth;
import dev.berth.LocalConfig;
import dev.berth.core.Signal;
import dev.berth.shims.testing.BusyboxRootfs;
import dev.berth.shims.testing.ContainerTests;
import dev.berth.tasks.ClosePolicy;
import dev.berth.tasks.TaskManager;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code berth} commands over real containers, in-process: each command makes its own {@code Berth.local}
 * service over one temp state directory and closes it (detaching the containers), so every command after
 * {@code run -d} works on a container that a previous, closed service left: it is restored.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ContainerCliTest {
    static final String NS = "h3-cli";
    static final String V2 = "io.containerd.runc.v2";
    static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    @Nullable Path state;

    record Result(int code, String out, String err) {
    }

    @BeforeAll
    static void prerequisites() {
        ContainerTests.requirePrerequisites("ContainerCliTest");
    }

    @AfterEach
    void removeLeftovers() throws Exception {
        ContainerTests.removeLeftovers(state);
    }

    Result berth(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = berth(out, err, new FakeSignalTrap(), args);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** As main does it, over the test's state directory and namespace. */
    int berth(OutputStream out, OutputStream err, SignalTrap signals, String... args) {
        List<String> argv = new ArrayList<>(List.of("--state", String.valueOf(state), "--namespace", NS));
        argv.addAll(List.of(args));
        return new BerthCli(s -> Berth.local(LocalConfig.of(s).withClosePolicy(ClosePolicy.DETACH)),
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

    @Test
    void aDetachedContainerIsListedExecutedInKilledAndRemovedByLaterCommands() throws Exception {
        Path rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
        state = dir.resolve("state");

        Result run = berth("run", "-d", "--runtime", V2, "--rootfs", rootfs.toString(), "sleeper", "--",
                "sh", "-c", "echo started; echo to-stderr >&2; exec sleep 1000");
        assertThat(run.code()).as(run.err()).isZero();
        Path log = state.resolve(".logs").resolve(NS).resolve("sleeper.log");
        assertThat(run.out()).isEqualTo(log + "\n");
        assertThat(run.err()).isEmpty();

        // A second service, after the first closed: the container was detached, and is restored.
        List<String[]> running = ps();
        assertThat(running).hasSize(1);
        assertThat(running.get(0)).hasSize(4);
        assertThat(running.get(0)[0]).isEqualTo("sleeper");
        assertThat(running.get(0)[2]).isEqualTo("RUNNING");
        assertThat(running.get(0)[3]).isEqualTo(V2);
        long pid = Long.parseLong(running.get(0)[1]);
        ProcessHandle init = ProcessHandle.of(pid).orElseThrow();

        Result exec = berth("exec", "--exec-id", "e1", "sleeper", "--", "echo", "hello from exec");
        assertThat(exec.code()).as(exec.err()).isZero();
        assertThat(exec.out()).isEqualTo("hello from exec\n");
        assertThat(exec.err()).isEmpty();
        Result failing = berth("exec", "--exec-id", "e1", "sleeper", "--", "sh", "-c", "exit 3");
        assertThat(failing.code()).as(failing.err() + " (e1 was deleted after the first exec, so it is free)")
                .isEqualTo(3);
        Result missing = berth("exec", "--exec-id", "e2", "sleeper", "--", "no-such-program");
        assertThat(missing.code()).as(missing.err()).isEqualTo(127);

        Result kill = berth("kill", "-s", "KILL", "sleeper");
        assertThat(kill.code()).as(kill.err()).isZero();
        assertThat(kill.out() + kill.err()).isEmpty();
        init.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS);

        List<String[]> stopped = ps();
        assertThat(stopped).hasSize(1);
        assertThat(stopped.get(0)).containsExactly("sleeper", "0", "STOPPED", V2);

        Result rm = berth("rm", "sleeper");
        assertThat(rm.code()).as(rm.err()).isZero();
        assertThat(rm.out() + rm.err()).isEmpty();
        assertThat(ps()).isEmpty();

        assertThat(Files.readString(log)).contains("started\n", "to-stderr\n");
        assertThat(ContainerTests.shimsOf(state.toString())).isEmpty();
    }

    @Test
    void aRunningContainerIsRemovedOnlyWithForce() throws Exception {
        Path rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
        state = dir.resolve("state");
        assertThat(berth("run", "-d", "--runtime", V2, "--rootfs", rootfs.toString(), "web", "--", "sleep", "1000")
                .code()).isZero();

        Result refused = berth("rm", "web");
        assertThat(refused.code()).isEqualTo(125);
        assertThat(refused.err()).startsWith("berth: ").contains("--force");
        assertThat(ps()).hasSize(1);

        Result forced = berth("rm", "--force", "web");
        assertThat(forced.code()).as(forced.err()).isZero();
        assertThat(ps()).isEmpty();
        assertThat(ContainerTests.shimsOf(state.toString())).isEmpty();
    }

    @Test
    void aCommandWhileAnotherServiceOwnsTheStateDirectoryExits125SayingSo() {
        state = dir.resolve("state");
        TaskManager owner = Berth.local(LocalConfig.of(state).withClosePolicy(ClosePolicy.DETACH));
        try {
            owner.restore().then().block(WAIT); // takes the lock

            Result ps = berth("ps");
            assertThat(ps.code()).isEqualTo(125);
            assertThat(ps.err().lines()).singleElement().asString().startsWith("berth: ")
                    .contains(state.toString(), "one berth process at a time");
            assertThat(ps.out()).isEmpty();
        } finally {
            owner.close().block(WAIT);
        }
        assertThat(ps()).isEmpty();
    }

    @Test
    void eventsTakesOverTheContainersAndShowsTheExitOfOneKilledMeanwhile() throws Exception {
        Path rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
        state = dir.resolve("state");
        assertThat(berth("run", "-d", "--runtime", V2, "--rootfs", rootfs.toString(), "watched", "--", "sleep",
                "1000").code()).isZero();
        ProcessHandle init = ProcessHandle.of(Long.parseLong(ps().get(0)[1])).orElseThrow();

        LineWatcher out = new LineWatcher("/tasks/exit");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ManualSignalTrap signals = new ManualSignalTrap();
        CompletableFuture<Integer> events = CompletableFuture.supplyAsync(
                () -> berth(out, err, signals, "events", "namespace==" + NS));
        signals.trapped.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        // Killed behind berth's back: before or after the takeover, the exit reaches the subscriber.
        init.destroyForcibly();
        String seen = out.seen.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        signals.send(Signal.INT);

        assertThat(events.get(WAIT.toSeconds(), TimeUnit.SECONDS)).as(err.toString(StandardCharsets.UTF_8))
                .isZero();
        assertThat(seen.lines().filter(line -> line.contains(" /tasks/exit "))).singleElement().asString()
                .contains(NS, "container_id=watched", "exit_status=137");
        Result rm = berth("rm", "watched");
        assertThat(rm.code()).as(rm.err()).isZero();
    }
}
