package dev.berth.samples.cli;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.KillScope;
import dev.berth.core.Namespaces;
import dev.berth.core.Signal;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import dev.berth.events.TaskTopics;
import dev.berth.tasks.TaskManager;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;

/**
 * One {@code berth run}: create, subscribe to the exit, start, copy output (and input with {@code -i}), wait for
 * the exit and the end of both outputs, delete, close the service. Runs on the calling thread and blocks, which
 * only a command line may do; everything the runtime emits is observed on boundedElastic or on this thread.
 *
 * <p>The task is always deleted and the service always closed, also when the JVM shuts down under us (a signal
 * that could not be trapped): the embedded runtime lives in this JVM, so a task must not outlive it, and a
 * foreground container is this command's too. A container run first takes over the containers left in the state
 * directory, so that an id already in use is refused; an embedded run never does, so it needs neither root nor the
 * state directory's lock. Over a containerd daemon there is nothing to take over: the daemon refuses an id in use.
 */
final class TaskRun {
    private static final Logger log = LoggerFactory.getLogger(TaskRun.class);
    private static final Duration KILL_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration DELETE_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration EVENTS_TIMEOUT = Duration.ofSeconds(5);

    private final BerthCli cli;
    private final Target target;
    private final boolean restore;
    private final TaskSpec spec;
    private final boolean interactive;
    private final boolean showEvents;
    private final String namespaceName;
    /** With {@code --events}: completes once the task's delete event was printed. */
    private final CompletableFuture<@Nullable Void> eventsShown = new CompletableFuture<>();
    private volatile Disposable events = Disposables.disposed();
    private final Function<Context, Context> namespace;
    private final AtomicReference<@Nullable Task> task = new AtomicReference<>();
    private final CompletableFuture<@Nullable ExitStatus> exit = new CompletableFuture<>();
    private final AtomicInteger interrupts = new AtomicInteger();
    private final AtomicBoolean cleanupStarted = new AtomicBoolean();
    private final CountDownLatch cleanupDone = new CountDownLatch(1);

    TaskRun(BerthCli cli, Target target, String namespace, TaskSpec spec, boolean interactive, boolean showEvents,
            boolean restore) {
        this.cli = cli;
        this.target = target;
        this.restore = restore;
        this.spec = spec;
        this.interactive = interactive;
        this.showEvents = showEvents;
        this.namespaceName = namespace;
        this.namespace = Namespaces.with(namespace);
    }

    /** Runs the task to its end. @return the command's exit code */
    @SuppressWarnings("try") // the registrations only need closing
    int run() {
        TaskService service;
        try {
            service = Session.service(cli, target);
        } catch (RuntimeException e) {
            cli.report(messageOf(e));
            return ExitCodes.BERTH_ERROR;
        }
        try (SignalTrap.Registration hook = cli.signals.atShutdown(() -> cleanUp(service))) {
            try {
                return runOn(service);
            } finally {
                cleanUp(service);
            }
        }
    }

    @SuppressWarnings("try")
    private int runOn(TaskService service) {
        if (showEvents) {
            showEvents(service);
        }
        if (restore && service instanceof TaskManager local) {
            try {
                local.restore().then().block(Session.RESTORE_TIMEOUT);
            } catch (RuntimeException e) {
                cli.report(messageOf(Session.explain(e, target, "cannot take over the containers")));
                return ExitCodes.BERTH_ERROR;
            }
        }
        Task created;
        try {
            created = service.create(spec).contextWrite(namespace).block();
        } catch (RuntimeException e) {
            cli.report(messageOf(e));
            return ExitCodes.ofLaunchFailure(e);
        }
        if (created == null) {
            cli.report("the runtime created no task " + spec.id());
            return ExitCodes.BERTH_ERROR;
        }
        task.set(created);
        // Subscribed before start: the exit is hot and caches, but we hold it from the first moment anyway.
        // The subscription ends by itself: with the exit, or empty when the task is deleted.
        created.exit().contextWrite(namespace).subscribe(exit::complete, exit::completeExceptionally,
                () -> exit.complete(null));
        try {
            created.start().contextWrite(namespace).block();
        } catch (RuntimeException e) {
            cli.report(messageOf(e));
            return ExitCodes.ofLaunchFailure(e);
        }
        try (SignalTrap.Registration trap = cli.signals.trap(this::forward)) {
            CompletableFuture<Void> stdout = OutputPump.copy(created.stdout().contextWrite(namespace), cli.out);
            CompletableFuture<Void> stderr = OutputPump.copy(created.stderr().contextWrite(namespace), cli.err);
            Disposable stdin = interactive ? forwardStdin(created) : Disposables.disposed();
            try {
                ExitStatus status = exit.join();
                awaitOutput("stdout", stdout);
                awaitOutput("stderr", stderr);
                if (status == null) {
                    cli.report("task " + spec.id() + " ended without an exit status");
                    return ExitStatus.UNKNOWN_EXIT_CODE;
                }
                return status.toShellCode();
            } catch (CompletionException e) {
                cli.report("waiting for task " + spec.id() + ": " + messageOf(e.getCause()));
                return ExitCodes.BERTH_ERROR;
            } finally {
                stdin.dispose();
            }
        }
    }

    /** Prints the task's events to stderr, from before its create to its delete (owned, disposed at clean-up). */
    private void showEvents(TaskService service) {
        events = service.events()
                .subscribe("namespace==" + namespaceName + ",event.container_id==" + spec.id())
                .takeUntil(e -> e.topic().equals(TaskTopics.DELETE))
                .subscribe(e -> {
                    cli.err.println(EventFormat.text(e));
                    cli.err.flush();
                }, e -> {
                    cli.report("events of task " + spec.id() + ": " + messageOf(e));
                    eventsShown.complete(null);
                }, () -> eventsShown.complete(null));
    }

    private Disposable forwardStdin(Task created) {
        // Owned boundary, disposed when the run ends. Once the task stops reading, writing fails (broken pipe,
        // stdin closed): that is how forwarding normally ends, as in a shell, so only our own read errors count.
        return created.writeStdin(StdinSource.read(cli.in))
                .contextWrite(namespace)
                .subscribe(null, e -> {
                    Throwable readError = StdinSource.readErrorIn(e);
                    if (readError != null) {
                        cli.report("cannot read stdin: " + messageOf(readError.getCause()));
                    } else {
                        log.debug("[{}] stdin forwarding ended: {}", spec.id(), e.toString());
                    }
                });
    }

    private void awaitOutput(String name, CompletableFuture<Void> output) {
        try {
            output.join();
        } catch (CompletionException e) {
            cli.report(name + " of task " + spec.id() + ": " + messageOf(e.getCause()));
        }
    }

    /**
     * On a signal to this command: SIGINT and SIGTERM go to the task's init process, which decides what to do; a
     * second SIGINT kills every process of the task.
     */
    private void forward(Signal signal) {
        Task t = task.get();
        if (t == null) {
            return;
        }
        boolean again = signal.equals(Signal.INT) && interrupts.incrementAndGet() > 1;
        Mono<Void> kill = again ? t.kill(Signal.KILL, KillScope.ALL) : t.kill(signal);
        try {
            await(kill.contextWrite(namespace), KILL_TIMEOUT, "signal task " + spec.id());
        } catch (RuntimeException e) {
            // FAILED_PRECONDITION: it exited meanwhile, and its exit code tells the rest.
            if (!Errors.is(e, ErrorKind.FAILED_PRECONDITION)) {
                cli.report("cannot send " + (again ? Signal.KILL : signal) + " to task " + spec.id() + ": "
                        + messageOf(e));
            }
        }
    }

    /** Deletes the task (killing it if it still runs) and closes the service, once, from whichever thread asks. */
    private void cleanUp(TaskService service) {
        if (!cleanupStarted.compareAndSet(false, true)) {
            try {
                cleanupDone.await(DELETE_TIMEOUT.plus(CLOSE_TIMEOUT).toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        try {
            Task t = task.get();
            if (t != null) {
                try {
                    await(t.delete(true).contextWrite(namespace), DELETE_TIMEOUT, "delete task " + spec.id());
                    if (showEvents) {
                        eventsShown.get(EVENTS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    }
                } catch (RuntimeException | java.util.concurrent.ExecutionException
                        | java.util.concurrent.TimeoutException e) {
                    cli.report("cannot delete task " + spec.id() + ": " + messageOf(e));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            events.dispose();
            try {
                await(service.close().contextWrite(namespace), CLOSE_TIMEOUT, "close the task service");
            } catch (RuntimeException e) {
                cli.report("cannot close the task service: " + messageOf(e));
            }
        } finally {
            cleanupDone.countDown();
        }
    }

    private static void await(Mono<?> command, Duration timeout, String what) {
        command.timeout(timeout, Mono.error(() -> Errors.deadlineExceeded("%s: no answer in %ss", what,
                timeout.toSeconds()))).block();
    }

    private static String messageOf(@Nullable Throwable e) {
        if (e == null) {
            return "unknown error";
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
