package dev.berth.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.Envelope;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.KillScope;
import dev.berth.core.Signal;
import dev.berth.core.TaskSpec;
import dev.berth.core.TaskStatus;
import dev.berth.events.EventTypes;
import dev.berth.events.proto.containerd.events.TaskExit;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --containerd SOCKET} and {@code BERTH_CONTAINERD} over the fake: the commands act on the daemon's service,
 * never make the local one, never restore, and refuse what the daemon cannot do.
 */
@Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ContainerdOptionTest {
    static final String V2 = "io.containerd.runc.v2";

    final CliHarness cli = new CliHarness();
    @TempDir
    Path dir;

    /** A task of the daemon that runs until a signal, then exits as killed by it. */
    FakeTask running(String id) {
        return cli.service.running("default", id, new FakeTask.Script() {
            @Override
            public void signaled(FakeTask task, Signal signal, KillScope scope) {
                task.exit(ExitStatus.signaled(signal.number(), Instant.EPOCH));
            }
        });
    }

    Path socket() {
        return dir.resolve("h8-c.sock");
    }

    @Test
    void psListsTheDaemonsTasksWithoutTakingOverOrAStateDirectory() {
        running("web");

        assertThat(cli.berth("--containerd", socket().toString(), "ps")).isZero();

        assertThat(cli.out().lines()).containsExactly(
                "TASK    PID     STATUS     RUNTIME",
                "web     4242    RUNNING    io.berth.embedded");
        assertThat(cli.sockets).containsExactly(socket());
        assertThat(cli.service.states).isEmpty();
        assertThat(cli.service.calls).doesNotContain("restore", "restore(subscribed)");
        assertThat(cli.service.closed).isTrue();
    }

    @Test
    void berthContainerdSelectsTheDaemonAndTheFlagWinsOverIt() {
        FakeTask web = running("web");
        cli.environment.put("BERTH_CONTAINERD", socket().toString());

        assertThat(cli.berth("kill", "web")).isZero();
        assertThat(cli.berth("--containerd", dir.resolve("other.sock").toString(), "ps", "-q")).isZero();

        assertThat(web.signals).containsExactly("TERM/INIT");
        assertThat(cli.sockets).containsExactly(socket(), dir.resolve("other.sock"));
        assertThat(cli.service.states).isEmpty();
        assertThat(cli.service.calls).doesNotContain("restore");
    }

    @Test
    void aRelativeSocketIsMadeAbsolute() {
        assertThat(cli.berth("--containerd", "h8-rel.sock", "ps")).isZero();
        assertThat(cli.sockets).containsExactly(Path.of("h8-rel.sock").toAbsolutePath());
    }

    @Test
    void stateWithContainerdExits125AndMakesNoService() {
        assertThat(cli.berth("--containerd", socket().toString(), "--state", dir.toString(), "ps")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("--state", "--containerd");

        cli.environment.put("BERTH_CONTAINERD", socket().toString());
        assertThat(cli.berth("--state", dir.toString(), "rm", "web")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("--state", "$BERTH_CONTAINERD");

        assertThat(cli.berth("--state", dir.toString(), "run", "--rootfs", dir.toString(), "c1", "true"))
                .isEqualTo(125);
        assertThat(cli.servicesMade).hasValue(0);
    }

    @Test
    void berthStateFromTheEnvironmentIsIgnoredWithADaemon() {
        cli.environment.put("BERTH_STATE", dir.resolve("state").toString());

        assertThat(cli.berth("--containerd", socket().toString(), "ps")).isZero();
        assertThat(cli.sockets).containsExactly(socket());
        assertThat(cli.service.states).isEmpty();
    }

    @Test
    void runMakesAContainerOfTheDaemonsRuntimeWithoutRootOrTakingOver() throws Exception {
        Path rootfs = Files.createDirectories(dir.resolve("rootfs"));
        cli.root = false; // the socket's permissions decide, not this process's uid
        cli.service.onStart(task -> task.print("hi\n").exit(ExitStatus.exited(0, Instant.EPOCH)));

        assertThat(cli.berth("--containerd", socket().toString(), "run", "--rm", "--rootfs", rootfs.toString(),
                "c1", "--", "echo", "hi")).isZero();

        assertThat(cli.out()).isEqualTo("hi\n");
        TaskSpec spec = cli.service.task().spec();
        assertThat(spec.runtime()).isEqualTo(V2);
        assertThat(spec.rootfs()).isEqualTo(rootfs);
        assertThat(spec.process().env()).containsEntry("PATH", Runtimes.DEFAULT_PATH);
        assertThat(cli.service.task().currentStatus()).isEqualTo(TaskStatus.DELETED);
        assertThat(cli.service.calls).doesNotContain("restore").startsWith("create default", "start default");
        assertThat(cli.service.states).isEmpty();
        assertThat(cli.service.closed).isTrue();
    }

    @Test
    void runWithADaemonNeedsARootfsAndTheContainerRuntime() throws Exception {
        String socket = socket().toString();
        Path rootfs = Files.createDirectories(dir.resolve("rootfs"));

        assertThat(cli.berth("--containerd", socket, "run", "c1", "--", "true")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("--rootfs");
        assertThat(cli.berth("--containerd", socket, "run", "--runtime", "io.berth.embedded", "--rootfs",
                rootfs.toString(), "c1", "--", "true")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("--runtime io.berth.embedded", "--containerd", V2);
        assertThat(cli.berth("--containerd", socket, "run", "--runtime", V2, "--rootfs", rootfs.toString(), "c1",
                "--", "true")).isZero();

        assertThat(cli.servicesMade).hasValue(1);
    }

    @Test
    void detachingWithADaemonExits125AndMakesNothing() throws Exception {
        Path rootfs = Files.createDirectories(dir.resolve("rootfs"));

        assertThat(cli.berth("--containerd", socket().toString(), "run", "-d", "--rootfs", rootfs.toString(), "c1",
                "--", "sleep", "100")).isEqualTo(125);

        assertThat(cli.oneBerthLine()).contains("-d", "--containerd");
        assertThat(cli.servicesMade).hasValue(0);
        assertThat(cli.service.tasks).isEmpty();
    }

    @Test
    void execAndRmActOnTheDaemonsTasks() {
        running("web");
        FakeTask db = running("db");
        db.exit(ExitStatus.exited(0, Instant.EPOCH));
        cli.service.execScript = new FakeTask.Script() {
            @Override
            public void started(FakeTask exec) {
                exec.print("in web\n").exit(ExitStatus.exited(2, Instant.EPOCH));
            }
        };
        String socket = socket().toString();

        assertThat(cli.berth("--containerd", socket, "exec", "--exec-id", "e1", "web", "--", "true")).isEqualTo(2);
        assertThat(cli.out()).isEqualTo("in web\n");
        assertThat(cli.berth("--containerd", socket, "rm", "db")).isZero();

        assertThat(db.currentStatus()).isEqualTo(TaskStatus.DELETED);
        assertThat(cli.sockets).hasSize(2);
        assertThat(cli.service.calls).doesNotContain("restore");
    }

    @Test
    void eventsShowTheDaemonsEventsWithoutTakingOver() {
        cli.service.events.tryEmitNext(new Envelope(Instant.parse("2026-11-23T10:00:00Z"), "default", "/tasks/exit",
                EventTypes.pack(TaskExit.newBuilder().setContainerId("web").setId("web").setPid(42)
                        .setExitStatus(7).build())));
        cli.signals.arriving(Signal.INT);

        assertThat(cli.berth("--containerd", socket().toString(), "events")).isZero();

        assertThat(cli.out().lines()).containsExactly(
                "2026-11-23T10:00:00Z default /tasks/exit container_id=web id=web pid=42 exit_status=7");
        assertThat(cli.sockets).containsExactly(socket());
        assertThat(cli.service.calls).doesNotContain("restore", "restore(subscribed)");
    }

    @Test
    void aDaemonThatGoesAwayMidCommandIsNamedInTheError() {
        running("web");
        cli.service.execFailure = Errors.unavailable("connection reset");

        assertThat(cli.berth("--containerd", socket().toString(), "exec", "--exec-id", "e1", "web", "--", "true"))
                .isEqualTo(125);

        assertThat(cli.oneBerthLine()).contains("containerd at " + socket(), "connection reset");
    }

    @Test
    void aSocketThatDoesNotExistExits125NamingIt() {
        cli.realDaemons = true;

        assertThat(cli.berth("--containerd", socket().toString(), "ps")).isEqualTo(125);

        assertThat(cli.oneBerthLine()).contains("containerd at " + socket(), "no such socket");
        assertThat(cli.out()).isEmpty();
        assertThat(cli.servicesMade).hasValue(0);
    }

    @Test
    void aSocketNobodyListensOnExits125NamingIt() throws Exception {
        // Bound and closed: the socket file stays, and connecting to it is refused.
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket()));
        }
        assertThat(socket()).exists();
        cli.realDaemons = true;

        assertThat(cli.berth("--containerd", socket().toString(), "kill", "web")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("containerd at " + socket(), "does not answer");
        assertThat(cli.berth("--containerd", socket().toString(), "run", "--rootfs", dir.toString(), "c1", "true"))
                .isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("containerd at " + socket(), "does not answer");
    }
}
