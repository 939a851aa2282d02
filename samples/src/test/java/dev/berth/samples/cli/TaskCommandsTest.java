package dev.berth.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.KillScope;
import dev.berth.core.Signal;
import dev.berth.core.TaskStatus;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code berth ps}, {@code kill}, {@code exec}, {@code rm} and {@code events} over the fake. */
@Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TaskCommandsTest {
    final CliHarness cli = new CliHarness();

    /** A left task that runs until a signal: then it exits as killed by it. */
    static final FakeTask.Script UNTIL_SIGNALED = new FakeTask.Script() {
        @Override
        public void signaled(FakeTask task, Signal signal, KillScope scope) {
            task.exit(ExitStatus.signaled(signal.number(), Instant.EPOCH));
        }
    };

    FakeTask running(String id) {
        return cli.service.running("default", id, UNTIL_SIGNALED);
    }

    @Test
    void psListsTheNamespacesTasksSortedWithPidStatusAndRuntimeAfterTakingOver() {
        running("web");
        FakeTask stopped = running("db");
        stopped.exit(ExitStatus.exited(0, Instant.EPOCH));
        cli.service.running("other", "elsewhere", UNTIL_SIGNALED);

        assertThat(cli.berth("ps")).isZero();

        assertThat(cli.out().lines()).containsExactly(
                "TASK    PID     STATUS     RUNTIME",
                "db      0       STOPPED    io.berth.embedded",
                "web     4242    RUNNING    io.berth.embedded");
        assertThat(cli.service.calls).first().isEqualTo("restore");
        assertThat(cli.service.closed).isTrue();
    }

    @Test
    void psQuietPrintsIdsOnlyAndAnEmptyNamespacePrintsTheHeaderOnly() {
        running("web");
        running("api");

        assertThat(cli.berth("ps", "-q")).isZero();
        assertThat(cli.out().lines()).containsExactly("api", "web");
        assertThat(cli.berth("-n", "empty", "ps")).isZero();
        assertThat(cli.out().lines()).containsExactly("TASK    PID     STATUS    RUNTIME");
    }

    @Test
    void psFailsWith125WhenTheStateDirectoryIsOwnedByAnotherProcess() {
        cli.service.restoreFailure = Errors.failedPrecondition("locked by pid 4711");

        assertThat(cli.berth("--state", "/tmp/h3-elsewhere", "ps")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("in /tmp/h3-elsewhere: locked by pid 4711",
                "one berth process at a time");
        assertThat(cli.out()).isEmpty();
        assertThat(cli.service.closed).isTrue();
    }

    @Test
    void killSendsTermToTheInitByDefault() {
        FakeTask web = running("web");

        assertThat(cli.berth("kill", "web")).isZero();
        assertThat(cli.out()).isEmpty();
        assertThat(cli.err()).isEmpty();
        assertThat(web.signals).containsExactly("TERM/INIT");
        assertThat(cli.service.calls).first().isEqualTo("restore");
    }

    @Test
    void killTakesASignalByNameWithOrWithoutSigOrByNumberAndAll() {
        FakeTask a = running("a");
        FakeTask b = running("b");
        FakeTask c = running("c");

        assertThat(cli.berth("kill", "-s", "KILL", "--all", "a")).isZero();
        assertThat(cli.berth("kill", "--signal", "SIGUSR1", "b")).isZero();
        assertThat(cli.berth("kill", "-s", "2", "c")).isZero();

        assertThat(a.signals).containsExactly("KILL/ALL");
        assertThat(b.signals).containsExactly("USR1/INIT");
        assertThat(c.signals).containsExactly("INT/INIT");
    }

    @Test
    void anUnknownSignalExits125BeforeAnyServiceIsMade() {
        assertThat(cli.berth("kill", "-s", "SIGNOPE", "web")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("SIGNOPE");
        assertThat(cli.servicesMade).hasValue(0);
    }

    @Test
    void killingAnUnknownTaskExits125NamingItAndTheNamespace() {
        assertThat(cli.berth("-n", "h3-x", "kill", "ghost")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("no task ghost in namespace h3-x");
    }

    @Test
    void killingAStoppedTaskExits125() {
        running("web").exit(ExitStatus.exited(0, Instant.EPOCH));

        assertThat(cli.berth("kill", "web")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("cannot send SIGTERM to task web");
    }

    @Test
    void rmDeletesAStoppedTaskAndPrintsNothing() {
        FakeTask web = running("web");
        web.exit(ExitStatus.exited(0, Instant.EPOCH));

        assertThat(cli.berth("rm", "web")).isZero();
        assertThat(cli.out()).isEmpty();
        assertThat(cli.err()).isEmpty();
        assertThat(web.currentStatus()).isEqualTo(TaskStatus.DELETED);
        assertThat(cli.berth("ps", "-q")).isZero();
        assertThat(cli.out()).isEmpty();
    }

    @Test
    void rmOfARunningTaskExits125SuggestingForceAndLeavesItRunning() {
        FakeTask web = running("web");

        assertThat(cli.berth("rm", "web")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("--force");
        assertThat(web.currentStatus()).isEqualTo(TaskStatus.RUNNING);
    }

    @Test
    void rmForceKillsAndDeletesARunningTask() {
        FakeTask web = running("web");

        assertThat(cli.berth("rm", "--force", "web")).isZero();
        assertThat(cli.err()).isEmpty();
        assertThat(web.currentStatus()).isEqualTo(TaskStatus.DELETED);
        assertThat(web.exit().block()).isEqualTo(ExitStatus.signaled(9, Instant.EPOCH));
    }

    @Test
    void rmOfAnUnknownTaskExits125() {
        assertThat(cli.berth("rm", "ghost")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("no task ghost in namespace default");
    }

    @Test
    void execPrintsTheOutputExitsWithTheExecsCodeAndDeletesTheExec() {
        running("web");
        cli.service.execScript = new FakeTask.Script() {
            @Override
            public void started(FakeTask exec) {
                exec.print("hi\n").printErr("warn\n").exit(ExitStatus.exited(3, Instant.EPOCH));
            }
        };

        assertThat(cli.berth("exec", "--exec-id", "e1", "web", "--", "sh", "-c", "echo hi")).isEqualTo(3);

        assertThat(cli.out()).isEqualTo("hi\n");
        assertThat(cli.err()).isEqualTo("warn\n");
        FakeTask exec = cli.service.execs.get(0);
        assertThat(exec.id()).isEqualTo("e1");
        assertThat(exec.spec().process().args()).containsExactly("sh", "-c", "echo hi");
        assertThat(exec.currentStatus()).isEqualTo(TaskStatus.DELETED);
        assertThat(cli.service.calls).first().isEqualTo("restore");
        assertThat(cli.service.calls).contains("exec default", "delete default");
        assertThat(cli.service.closed).isTrue();
        assertThat(cli.signals.hooksOpen).hasValue(0);
        assertThat(cli.signals.trapsOpen).hasValue(0);
    }

    @Test
    void anExecKilledBySignalExitsWith128PlusN() {
        running("web");
        cli.service.execScript = new FakeTask.Script() {
            @Override
            public void started(FakeTask exec) {
                exec.exit(ExitStatus.signaled(15, Instant.EPOCH));
            }
        };

        assertThat(cli.berth("exec", "--exec-id", "e1", "web", "sleep", "100")).isEqualTo(128 + 15);
    }

    @Test
    void ctrlCIsForwardedToTheExec() {
        running("web");
        cli.service.execScript = UNTIL_SIGNALED;
        cli.signals.arriving(Signal.INT);

        assertThat(cli.berth("exec", "--exec-id", "e1", "web", "--", "sleep", "100")).isEqualTo(130);
        assertThat(cli.service.execs.get(0).signals).containsExactly("INT/INIT");
    }

    @Test
    void execWithDashIForwardsStdin() {
        running("web");
        cli.in = new ByteArrayInputStream("piped\n".getBytes(StandardCharsets.UTF_8));
        cli.service.execScript = new FakeTask.Script() {
            @Override
            public void stdinClosed(FakeTask exec, byte[] input) {
                exec.print(new String(input, StandardCharsets.UTF_8)).exit(ExitStatus.exited(0, Instant.EPOCH));
            }
        };

        assertThat(cli.berth("exec", "-i", "--exec-id", "cat", "web", "--", "cat")).isZero();
        assertThat(cli.out()).isEqualTo("piped\n");
    }

    @Test
    void execMapsAProgramNotFoundTo127AndStillDeletesTheExec() {
        running("web");
        cli.service.execScript = new FakeTask.Script() { };
        cli.service.startFailure = Errors.notFound("exec: \"nope\": executable file not found in $PATH");

        assertThat(cli.berth("exec", "--exec-id", "e1", "web", "--", "nope")).isEqualTo(127);
        assertThat(cli.oneBerthLine()).contains("nope");
        assertThat(cli.service.execs.get(0).currentStatus()).isEqualTo(TaskStatus.DELETED);
    }

    @Test
    void execInAnUnknownTaskExits125NotAsCommandNotFound() {
        assertThat(cli.berth("exec", "--exec-id", "e1", "ghost", "--", "true")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("no task ghost");
    }

    @Test
    void execWithoutExecIdOrCommandExits125BeforeAnyServiceIsMade() {
        assertThat(cli.berth("exec", "web", "--", "true")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("--exec-id");
        assertThat(cli.berth("exec", "--exec-id", "e1", "web", "--")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("CMD");
        assertThat(cli.servicesMade).hasValue(0);
    }

    @Test
    void execInAStoppedTaskExits125() {
        running("web").exit(ExitStatus.exited(0, Instant.EPOCH));

        assertThat(cli.berth("exec", "--exec-id", "e1", "web", "--", "true")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("STOPPED");
    }

    @Test
    void eventsSubscribesBeforeItTakesOverTheContainers() {
        cli.signals.arriving(Signal.INT);

        assertThat(cli.berth("events")).isZero();
        assertThat(cli.service.calls).containsExactly("restore(subscribed)");
        assertThat(cli.service.closed).isTrue();
    }

    @Test
    void eventsExits125WhenTheStateDirectoryIsOwnedByAnotherProcess() {
        cli.service.restoreFailure = Errors.failedPrecondition("locked");

        assertThat(cli.berth("events")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("one berth process at a time owns the state directory");
        assertThat(cli.service.closed).isTrue();
    }
}
