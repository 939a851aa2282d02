package dev.berth.samples.cli;

import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.Process;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.core.Stdio;
import dev.berth.core.Task;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;

/**
 * One {@code berth exec}: takes over the containers, finds the task, adds the exec, subscribes to its exit, starts
 * it, copies its output (and input with {@code -i}), waits for the exit and the end of both outputs, deletes the
 * exec and closes the service (the task keeps running). Blocks on the calling thread, as {@link TaskRun} does.
 *
 * <p>The exec is always deleted, also when the JVM shuts down under us: a process the command started must not
 * outlive it unseen. One still running then is killed first.
 */
final class ExecRun {
    private static final Logger log = LoggerFactory.getLogger(ExecRun.class);
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);

    private final BerthCli cli;
    private final Session session;
    private final String taskId;
    private final String execId;
    private final List<String> args;
    private final List<String> env;
    private final boolean interactive;
    private final AtomicReference<@Nullable Process> exec = new AtomicReference<>();
    private final CompletableFuture<@Nullable ExitStatus> exit = new CompletableFuture<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean cleanupStarted = new AtomicBoolean();
    private final CountDownLatch cleanupDone = new CountDownLatch(1);

    ExecRun(BerthCli cli, Session session, String taskId, String execId, List<String> args, List<String> env,
            boolean interactive) {
        this.cli = cli;
        this.session = session;
        this.taskId = taskId;
        this.execId = execId;
        this.args = args;
        this.env = env;
        this.interactive = interactive;
    }

    /** Runs the exec to its end. @return the command's exit code */
    @SuppressWarnings("try") // the registration only needs closing
    int run() {
        try (SignalTrap.Registration hook = cli.signals.atShutdown(this::cleanUp)) {
            try {
                return runIt();
            } finally {
                cleanUp();
            }
        }
    }

    @SuppressWarnings("try")
    private int runIt() {
        Task task;
        try {
            session.restore();
            task = session.task(taskId);
        } catch (BerthException e) {
            cli.report(e.getMessage());
            return ExitCodes.BERTH_ERROR;
        }
        Process process;
        try {
            process = session.await(task.exec(execId, spec(task)), "add exec " + execId + " to task " + taskId);
        } catch (RuntimeException e) {
            cli.report(Messages.of(e));
            return ExitCodes.ofLaunchFailure(e);
        }
        exec.set(process);
        // Subscribed before start, as for a task: the exit is hot and cached, but we hold it from the first moment.
        process.exit().contextWrite(session.context())
                .subscribe(exit::complete, exit::completeExceptionally, () -> exit.complete(null));
        try {
            session.await(process.start(), "start exec " + execId);
            started.set(true);
        } catch (RuntimeException e) {
            cli.report(Messages.of(e));
            return ExitCodes.ofLaunchFailure(e);
        }
        try (SignalTrap.Registration trap = cli.signals.trap(this::forward)) {
            CompletableFuture<Void> stdout = OutputPump.copy(process.stdout().contextWrite(session.context()),
                    cli.out);
            CompletableFuture<Void> stderr = OutputPump.copy(process.stderr().contextWrite(session.context()),
                    cli.err);
            Disposable stdin = interactive ? forwardStdin(process) : Disposables.disposed();
            try {
                ExitStatus status = exit.join();
                awaitOutput("stdout", stdout);
                awaitOutput("stderr", stderr);
                if (status == null) {
                    cli.report("exec " + execId + " ended without an exit status");
                    return ExitStatus.UNKNOWN_EXIT_CODE;
                }
                return status.toShellCode();
            } catch (CompletionException e) {
                cli.report("waiting for exec " + execId + ": " + Messages.of(e.getCause()));
                return ExitCodes.BERTH_ERROR;
            } finally {
                stdin.dispose();
            }
        }
    }

    /** The exec's process: a container's gets a default PATH, since it sees exactly the spec's environment. */
    private ProcessSpec spec(Task task) {
        ProcessSpec.Builder builder = ProcessSpec.builder(args)
                .stdio(interactive ? Stdio.DEFAULT.withStdinPipe() : Stdio.DEFAULT);
        for (String entry : env) {
            int eq = entry.indexOf('=');
            builder.env(entry.substring(0, eq), entry.substring(eq + 1));
        }
        ProcessSpec spec = builder.build();
        return Runtimes.isContainer(task.spec()) ? Runtimes.withDefaultPath(spec) : spec;
    }

    private Disposable forwardStdin(Process process) {
        // Owned boundary, disposed when the exec ends; a write failing once the exec stops reading ends it, as in
        // a shell, so only our own read errors are reported.
        return process.writeStdin(StdinSource.read(cli.in))
                .contextWrite(session.context())
                .subscribe(null, e -> {
                    Throwable readError = StdinSource.readErrorIn(e);
                    if (readError != null) {
                        cli.report("cannot read stdin: " + Messages.of(readError.getCause()));
                    } else {
                        log.debug("[{}/{}] stdin forwarding ended: {}", taskId, execId, e.toString());
                    }
                });
    }

    private void awaitOutput(String name, CompletableFuture<Void> output) {
        try {
            output.join();
        } catch (CompletionException e) {
            cli.report(name + " of exec " + execId + ": " + Messages.of(e.getCause()));
        }
    }

    /** SIGINT and SIGTERM sent to this command go to the exec, which decides what to do. */
    private void forward(Signal signal) {
        Process process = exec.get();
        if (process == null) {
            return;
        }
        try {
            session.orNull(process.kill(signal), "signal exec " + execId);
        } catch (RuntimeException e) {
            if (!Errors.is(e, ErrorKind.FAILED_PRECONDITION)) { // it exited meanwhile: its code tells the rest
                cli.report("cannot send " + signal + " to exec " + execId + ": " + Messages.of(e));
            }
        }
    }

    /**
     * Deletes the exec (killing it first if it still runs) and closes the service, once, from whichever thread
     * asks: the command's own at the end, or the shutdown hook.
     */
    private void cleanUp() {
        if (!cleanupStarted.compareAndSet(false, true)) {
            try {
                cleanupDone.await(Session.COMMAND_TIMEOUT.plus(Session.CLOSE_TIMEOUT).toMillis(),
                        TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        try {
            Process process = exec.get();
            if (process != null) {
                deleteExec(process);
            }
            session.close();
        } finally {
            cleanupDone.countDown();
        }
    }

    private void deleteExec(Process process) {
        try {
            if (started.get() && !exit.isDone()) {
                session.orNull(process.kill(Signal.KILL)
                        .onErrorResume(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION), e -> Mono.empty()),
                        "kill exec " + execId);
                exit.get(KILL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (RuntimeException | java.util.concurrent.ExecutionException
                | java.util.concurrent.TimeoutException e) {
            log.debug("[{}/{}] kill before delete: {}", taskId, execId, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            session.orNull(process.delete(), "delete exec " + execId);
        } catch (RuntimeException e) {
            cli.report("cannot delete exec " + execId + ": " + Messages.of(e));
        }
    }
}
