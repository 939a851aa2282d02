package dev.berth.samples.cli;

import dev.berth.core.BerthException;
import dev.berth.core.Identifiers;
import dev.berth.core.Task;
import dev.berth.core.TaskSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * One {@code berth run -d}: takes over the containers left in the state directory (so an id in use is refused),
 * creates the container with its output appended to its log file, starts it, prints the log file's path and closes
 * the service, which leaves the container running for the next command. A container that was created but could
 * not be started is deleted, also when the JVM shuts down before the start.
 */
final class DetachedRun {
    private final BerthCli cli;
    private final Path state;
    private final String namespace;
    private final TaskSpec spec;
    private final Path log;
    private final AtomicReference<@Nullable Task> created = new AtomicReference<>();
    private final AtomicBoolean started = new AtomicBoolean();

    DetachedRun(BerthCli cli, Path state, String namespace, TaskSpec spec, Path log) {
        this.cli = cli;
        this.state = state;
        this.namespace = namespace;
        this.spec = spec;
        this.log = log;
    }

    /**
     * Where a detached container's stdout and stderr go: {@code <state>/.logs/<namespace>/<id>.log}.
     *
     * @throws BerthException INVALID_ARGUMENT for an invalid id, which must not reach a path
     */
    static Path logFile(Path state, String namespace, String id) {
        Identifiers.validate("task id", id);
        return state.resolve(".logs").resolve(namespace).resolve(id + ".log");
    }

    /** @return 0 once the container runs; else a launch failure's code, the failure printed */
    @SuppressWarnings("try") // the registration only needs closing
    int run() {
        Session session;
        try {
            session = Session.open(cli, new Target.Local(state), namespace);
        } catch (BerthException e) {
            cli.report(e.getMessage());
            return ExitCodes.BERTH_ERROR;
        }
        try (session; SignalTrap.Registration hook = cli.signals.atShutdown(() -> {
                    abandon(session);
                    session.close();
                })) {
            try {
                session.restore();
            } catch (BerthException e) {
                cli.report(e.getMessage());
                return ExitCodes.BERTH_ERROR;
            }
            // Only once the state directory is ours: a refused command leaves nothing behind.
            try {
                Files.createDirectories(log.getParent());
            } catch (IOException e) {
                cli.report("cannot create the log directory " + log.getParent() + ": " + Messages.of(e));
                return ExitCodes.BERTH_ERROR;
            }
            Task task;
            try {
                task = session.await(session.service.create(spec), "create task " + spec.id());
                created.set(task);
                session.await(task.start(), "start task " + spec.id());
                started.set(true);
            } catch (RuntimeException e) {
                cli.report(Messages.of(e));
                abandon(session);
                return ExitCodes.ofLaunchFailure(e);
            }
            cli.out.println(log);
            cli.out.flush();
            return 0;
        }
    }

    /** Deletes the container if it was created and never started: only a running one is left behind. */
    private void abandon(Session session) {
        Task task = created.getAndSet(null);
        if (task == null || started.get()) {
            return;
        }
        try {
            session.orNull(task.delete(true), "delete task " + spec.id());
        } catch (RuntimeException e) {
            cli.report("cannot delete task " + spec.id() + ": " + Messages.of(e));
        }
    }
}
