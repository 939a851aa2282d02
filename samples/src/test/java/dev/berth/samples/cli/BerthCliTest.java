package dev.berth.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.KillScope;
import dev.berth.core.Signal;
import dev.berth.core.Stdio;
import dev.berth.core.TaskStatus;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.scheduler.Schedulers;

// A separate thread, so that a run stuck in an uninterruptible join still fails the test after 10 s.
@Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class BerthCliTest {
    final FakeTaskService service = new FakeTaskService();
    final FakeSignalTrap signals = new FakeSignalTrap();
    final AtomicInteger servicesMade = new AtomicInteger();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    InputStream in = new ByteArrayInputStream(new byte[0]);
    PrintStream outStream = new PrintStream(out, true, StandardCharsets.UTF_8);
    Map<String, String> environment = Map.of();
    boolean root = true;

    int berth(String... args) {
        return new BerthCli(state -> {
            servicesMade.incrementAndGet();
            service.states.add(state);
            return service;
        }, in, outStream, new PrintStream(err, true, StandardCharsets.UTF_8), environment::get, signals)
                .withRoot(root)
                .execute(args);
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    void assertOneBerthLineOnStderr() {
        assertThat(err().lines()).singleElement().asString().startsWith("berth: ");
    }

    @Test
    void theTasksExitCodeIsTheCommandsExitCode() {
        service.script(FakeTask.Script.exitWith(7));

        assertThat(berth("run", "job", "--", "false")).isEqualTo(7);
        assertThat(err()).isEmpty();
    }

    @Test
    void aTaskKilledBySignalNineExitsWith137() {
        service.onStart(task -> task.exit(ExitStatus.signaled(9, Instant.EPOCH)));

        assertThat(berth("run", "job", "--", "sleep", "100")).isEqualTo(128 + 9);
    }

    @Test
    void anInvalidTaskIdExits125WithOneLineOnStderrAndCreatesNothing() {
        assertThat(berth("run", "not a valid id!", "--", "true")).isEqualTo(125);

        assertOneBerthLineOnStderr();
        assertThat(err()).contains("task id");
        assertThat(servicesMade).hasValue(0);
    }

    @Test
    void anUnknownOptionExits125WithOneLineOnStderr() {
        assertThat(berth("run", "--no-such-flag", "job", "--", "true")).isEqualTo(125);

        assertOneBerthLineOnStderr();
        assertThat(servicesMade).hasValue(0);
    }

    @Test
    void aMissingCommandExits125() {
        assertThat(berth("run", "job", "--")).isEqualTo(125);

        assertOneBerthLineOnStderr();
    }

    @Test
    void aCommandNotFoundAtCreateExits127() {
        service.createFailure = Errors.notFound("program \"nope\" not found");

        assertThat(berth("run", "job", "--", "nope")).isEqualTo(127);
        assertOneBerthLineOnStderr();
    }

    @Test
    void aCommandThatCannotBeExecutedExits126() {
        service.createFailure = Errors.of(ErrorKind.PERMISSION_DENIED, "cannot execute /etc/passwd");

        assertThat(berth("run", "job", "--", "/etc/passwd")).isEqualTo(126);
        assertOneBerthLineOnStderr();
    }

    @Test
    void aNotFoundAtStartAlsoExits127AndTheTaskIsDeleted() {
        service.startFailure = Errors.wrap(Errors.notFound("no such file"), "start task job");

        assertThat(berth("run", "job", "--", "nope")).isEqualTo(127);
        assertOneBerthLineOnStderr();
        assertThat(service.task().currentStatus()).isEqualTo(TaskStatus.DELETED);
    }

    @Test
    void anyOtherCreateFailureExits125() {
        service.createFailure = Errors.alreadyExists("task job already exists");

        assertThat(berth("run", "job", "--", "true")).isEqualTo(125);
        assertOneBerthLineOnStderr();
        assertThat(service.closed).isTrue();
    }

    @Test
    void aServiceThatCannotBeMadeExits125() {
        int code = new BerthCli(state -> {
            throw Errors.notImplemented("the embedded runtime needs Linux");
        }, in, outStream, new PrintStream(err, true, StandardCharsets.UTF_8), environment::get, signals)
                .execute("run", "job", "--", "true");

        assertThat(code).isEqualTo(125);
        assertOneBerthLineOnStderr();
    }

    @Test
    void environmentAndWorkingDirectoryReachTheProcessSpec(@TempDir Path dir) {
        assertThat(berth("run", "-e", "A=1", "--env", "B=x=y", "-e", "EMPTY=", "--cwd", dir.toString(), "job", "--",
                "env")).isEqualTo(0);

        var process = service.task().spec().process();
        assertThat(process.env()).containsExactlyInAnyOrderEntriesOf(Map.of("A", "1", "B", "x=y", "EMPTY", ""));
        assertThat(process.cwd()).isEqualTo(dir.toAbsolutePath().toString());
        assertThat(process.args()).containsExactly("env");
        assertThat(process.stdio()).isEqualTo(Stdio.DEFAULT);
    }

    @Test
    void anEnvironmentEntryWithoutEqualsSignExits125() {
        assertThat(berth("run", "-e", "JUST_A_NAME", "job", "--", "env")).isEqualTo(125);

        assertOneBerthLineOnStderr();
        assertThat(servicesMade).hasValue(0);
    }

    @Test
    void aWorkingDirectoryThatDoesNotExistExits125(@TempDir Path dir) {
        assertThat(berth("run", "--cwd", dir.resolve("missing").toString(), "job", "--", "pwd")).isEqualTo(125);

        assertOneBerthLineOnStderr();
    }

    @Test
    void everythingAfterTheIdIsTheCommandWithOrWithoutDoubleDash() {
        assertThat(berth("run", "job", "echo", "-n", "--rm", "hi")).isEqualTo(0);
        assertThat(service.task().spec().process().args()).containsExactly("echo", "-n", "--rm", "hi");

        assertThat(berth("run", "--rm", "job2", "--", "echo", "--", "-e")).isEqualTo(0);
        assertThat(service.task().spec().process().args()).containsExactly("echo", "--", "-e");
    }

    @Test
    void stdoutAndStderrBytesReachTheGivenStreams() {
        service.onStart(task -> task.print("hello ").printErr("oops\n").print("world\n")
                .exit(ExitStatus.exited(0, Instant.EPOCH)));

        assertThat(berth("run", "job", "--", "greet")).isEqualTo(0);

        assertThat(out()).isEqualTo("hello world\n");
        assertThat(err()).isEqualTo("oops\n");
    }

    @Test
    void outputAndExitEmittedOnANonBlockingRuntimeThreadArriveWhole() {
        service.onStart(task -> Schedulers.parallel().schedule(() -> task.print("from ").print("parallel\n")
                .exit(ExitStatus.exited(4, Instant.EPOCH))));

        assertThat(berth("run", "job", "--", "greet")).isEqualTo(4);

        assertThat(out()).isEqualTo("from parallel\n");
    }

    @Test
    void interactiveForwardsTheGivenInputToWriteStdin() {
        in = new ByteArrayInputStream("line one\nline two\n".getBytes(StandardCharsets.UTF_8));
        service.script(new FakeTask.Script() {
            @Override
            public void stdinClosed(FakeTask task, byte[] input) {
                task.print(new String(input, StandardCharsets.UTF_8)).exit(ExitStatus.exited(3, Instant.EPOCH));
            }
        });

        assertThat(berth("run", "-i", "job", "--", "cat")).isEqualTo(3);

        assertThat(service.task().spec().process().stdio().stdin()).isEqualTo(Stdio.Input.PIPE);
        assertThat(service.task().stdinBytes()).asString(StandardCharsets.UTF_8).isEqualTo("line one\nline two\n");
        assertThat(out()).isEqualTo("line one\nline two\n");
    }

    @Test
    void withoutInteractiveStdinIsNullAndNothingIsWritten() {
        in = new ByteArrayInputStream("ignored".getBytes(StandardCharsets.UTF_8));

        assertThat(berth("run", "job", "--", "cat")).isEqualTo(0);

        assertThat(service.task().spec().process().stdio().stdin()).isEqualTo(Stdio.Input.NULL);
        assertThat(service.calls).noneMatch(call -> call.startsWith("writeStdin"));
    }

    @Test
    void theNamespaceFlagReachesTheReactorContextOfEveryCall() {
        assertThat(berth("--namespace", "builds", "run", "job", "--", "true")).isEqualTo(0);

        assertThat(service.calls).contains("create builds", "start builds", "delete(force) builds")
                .allMatch(call -> call.endsWith(" builds"));
        assertThat(service.task().namespace()).isEqualTo("builds");
    }

    @Test
    void theNamespaceComesFromBerthNamespaceWhenNoFlagIsGiven() {
        environment = Map.of("BERTH_NAMESPACE", "from-env");

        assertThat(berth("run", "job", "--", "true")).isEqualTo(0);
        assertThat(service.calls).allMatch(call -> call.endsWith(" from-env"));

        assertThat(berth("-n", "flag", "run", "job2", "--", "true")).isEqualTo(0);
        assertThat(service.task().namespace()).isEqualTo("flag");
    }

    @Test
    void withoutFlagOrVariableTheNamespaceIsDefault() {
        assertThat(berth("run", "job", "--", "true")).isEqualTo(0);

        assertThat(service.calls).isNotEmpty().allMatch(call -> call.endsWith(" default"));
    }

    @Test
    void anInvalidNamespaceExits125() {
        assertThat(berth("--namespace", "no/slashes", "run", "job", "--", "true")).isEqualTo(125);

        assertOneBerthLineOnStderr();
        assertThat(servicesMade).hasValue(0);
    }

    @Test
    void ctrlCIsForwardedAsSigintAndTheTaskDecides() {
        signals.arriving(Signal.INT);
        service.script(new FakeTask.Script() {
            @Override
            public void signaled(FakeTask task, Signal signal, KillScope scope) {
                task.exit(ExitStatus.signaled(signal.number(), Instant.EPOCH));
            }
        });

        assertThat(berth("run", "job", "--", "sleep", "100")).isEqualTo(130);
        assertThat(service.task().signals).containsExactly("INT/INIT");
    }

    @Test
    void aSecondCtrlCKillsEveryProcessOfTheTask() {
        signals.arriving(Signal.INT, Signal.INT);
        service.script(new FakeTask.Script() {
            @Override
            public void signaled(FakeTask task, Signal signal, KillScope scope) {
                if (signal.equals(Signal.KILL)) {
                    task.exit(ExitStatus.signaled(signal.number(), Instant.EPOCH));
                }
            }
        });

        assertThat(berth("run", "job", "--", "ignores-sigint")).isEqualTo(137);
        assertThat(service.task().signals).containsExactly("INT/INIT", "KILL/ALL");
    }

    @Test
    void sigtermIsForwardedAsSigterm() {
        signals.arriving(Signal.TERM);
        service.script(new FakeTask.Script() {
            @Override
            public void signaled(FakeTask task, Signal signal, KillScope scope) {
                task.exit(ExitStatus.exited(0, Instant.EPOCH));
            }
        });

        assertThat(berth("run", "job", "--", "server")).isEqualTo(0);
        assertThat(service.task().signals).containsExactly("TERM/INIT");
    }

    @Test
    void theTaskIsDeletedAndTheServiceClosedAndHandlersRemovedWithOrWithoutRm() {
        assertThat(berth("run", "job", "--", "true")).isEqualTo(0);
        assertThat(berth("run", "--rm", "job2", "--", "true")).isEqualTo(0);

        assertThat(service.tasks).allMatch(task -> task.currentStatus() == TaskStatus.DELETED);
        assertThat(service.closed).isTrue();
        assertThat(signals.trapsEver).hasValue(2);
        assertThat(signals.trapsOpen).hasValue(0);
        assertThat(signals.hooksEver).hasValue(2);
        assertThat(signals.hooksOpen).hasValue(0);
    }

    @Test
    void aClosedStdoutStopsReadingTheTasksOutputAndTheTaskDecides() {
        outStream = new PrintStream(new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Broken pipe");
            }
        }, true, StandardCharsets.UTF_8);
        service.script(new FakeTask.Script() {
            @Override
            public void started(FakeTask task) {
                task.print("y\n").print("y\n");
            }

            // The fake has no pipe to break: it dies of SIGPIPE the moment its stdout reader goes away.
            @Override
            public void stdoutCancelled(FakeTask task) {
                task.exit(ExitStatus.signaled(Signal.PIPE.number(), Instant.EPOCH));
            }
        });

        assertThat(berth("run", "yes", "--", "yes")).isEqualTo(128 + 13);
        assertThat(service.task().stdoutCancelled).isTrue();
        assertThat(err()).isEmpty();
    }

    @Test
    void helpAndVersionExitZero() {
        assertThat(berth("--help")).isZero();
        assertThat(out()).contains("run");
        assertThat(berth("run", "--help")).isZero();
        assertThat(out()).contains("--cwd", "127");
        assertThat(berth("--version")).isZero();
        assertThat(out()).contains("berth ");
        assertThat(servicesMade).hasValue(0);
    }
}
