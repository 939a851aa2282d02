package dev.berth.samples.cli;

import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.Namespaces;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.tasks.TaskManager;
import java.time.Duration;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;

/**
 * One command's use of a task service: the local one made over the state directory, the containers a previous
 * command left taken over ({@link #restore()}), closed at the end, which leaves the containers running for the next
 * command (the service is made with {@code ClosePolicy.DETACH}); or the one over a containerd daemon, which keeps
 * its tasks itself, so there is nothing to take over. Blocks on the calling thread, which only a command line may
 * do. Failures are {@link BerthException}s whose message says what to do; the command line prints them.
 */
final class Session implements AutoCloseable {
    /** Restoring reconnects every shim of the state directory; a wedged one must not hang the command. */
    static final Duration RESTORE_TIMEOUT = Duration.ofSeconds(60);
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final BerthCli cli;
    final TaskService service;
    /** The local service, which restores; null over a daemon. */
    private final @Nullable TaskManager local;
    final Target target;
    final String namespace;
    private final Function<Context, Context> context;
    private boolean closed;

    private Session(BerthCli cli, TaskService service, @Nullable TaskManager local, Target target,
            String namespace) {
        this.cli = cli;
        this.service = service;
        this.local = local;
        this.target = target;
        this.namespace = namespace;
        this.context = Namespaces.with(namespace);
    }

    /**
     * Makes the service of {@code target} for commands in {@code namespace}.
     *
     * @throws BerthException INVALID_ARGUMENT for a bad namespace; the service's own failure, explained
     */
    static Session open(BerthCli cli, Target target, String namespace) {
        Namespaces.with(namespace); // validates: a bad namespace is the user's error before anything is made
        TaskService service = service(cli, target);
        TaskManager local = target instanceof Target.Local && service instanceof TaskManager m ? m : null;
        return new Session(cli, service, local, target, namespace);
    }

    /** {@link #open(BerthCli, Target, String)} with the target and namespace of {@code top}. */
    static Session open(BerthCli cli, @Nullable TopCommand top) {
        return top == null ? open(cli, new Target.Local(dev.berth.LocalConfig.defaultState()), Namespaces.DEFAULT)
                : open(cli, top.target(), top.namespace());
    }

    /**
     * Makes the service of {@code target}: the local one over its state directory, or the one over its daemon.
     *
     * @throws BerthException the service's own failure, explained
     */
    static TaskService service(BerthCli cli, Target target) {
        try {
            if (target instanceof Target.Containerd daemon) {
                return cli.daemons.apply(daemon.socket());
            }
            return cli.services.apply(((Target.Local) target).state());
        } catch (RuntimeException e) {
            throw explain(e, target, "cannot open the task service");
        }
    }

    /**
     * Takes over the containers a previous owner of the state directory left. Subscribe to events first to see
     * the ones this publishes. Takes the state directory's lock. Does nothing over a containerd daemon.
     *
     * @throws BerthException FAILED_PRECONDITION when another berth process owns the state directory,
     *     PERMISSION_DENIED without the rights containers need
     */
    void restore() {
        if (local == null) {
            return;
        }
        try {
            // A task found stopped comes out of the restore already STOPPED (its exit applied), so a command that
            // acts right after it sees what the runtime sees.
            local.restore().then().block(RESTORE_TIMEOUT);
        } catch (RuntimeException e) {
            throw explain(e, target, "cannot take over the containers");
        }
    }

    /** The task {@code id} of the namespace. @throws BerthException NOT_FOUND naming the namespace */
    Task task(String id) {
        try {
            return await(service.get(id), "find task " + id);
        } catch (BerthException e) {
            if (e.kind() == ErrorKind.NOT_FOUND) {
                throw Errors.notFound("no task %s in namespace %s (berth ps lists them)", id, namespace);
            }
            throw e;
        }
    }

    /** Runs {@code command} in the namespace and waits for its value, at most {@link #COMMAND_TIMEOUT}. */
    <T> T await(Mono<T> command, String what) {
        T value = orNull(command, what);
        if (value == null) {
            throw Errors.internal("%s: no answer", what);
        }
        return value;
    }

    /** As {@link #await} for a command that may complete empty. */
    <T> @Nullable T orNull(Mono<T> command, String what) {
        return command.contextWrite(context)
                .timeout(COMMAND_TIMEOUT, Mono.error(() -> Errors.deadlineExceeded("%s: no answer in %ss", what,
                        COMMAND_TIMEOUT.toSeconds())))
                .onErrorMap(this::unreachable, e -> Errors.of(Errors.kindOf(e), e, "%s: %s", target.describe(),
                        Messages.of(e)))
                .block();
    }

    /** Whether {@code e} says a daemon went away or hangs, which is better told with the socket named. */
    private boolean unreachable(Throwable e) {
        return target instanceof Target.Containerd
                && (Errors.is(e, ErrorKind.UNAVAILABLE) || Errors.is(e, ErrorKind.DEADLINE_EXCEEDED));
    }

    /** The Reactor Context of this session's namespace, for publishers the caller subscribes to itself. */
    Function<Context, Context> context() {
        return context;
    }

    /** Closes the service: containers are left running (detached); a failure is printed, never thrown. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            service.close().block(CLOSE_TIMEOUT);
        } catch (RuntimeException e) {
            cli.report("cannot close the task service: " + Messages.of(e));
        }
    }

    /**
     * A failure to open the service or take over its containers, with what the user can do about it: the two
     * common local causes are another berth process owning the state directory, and not being root. Over a
     * daemon, the message names its socket.
     */
    static BerthException explain(Throwable e, Target target, String what) {
        if (target instanceof Target.Containerd) {
            // The daemon's own messages are explained enough; the socket says which daemon.
            return Errors.of(Errors.kindOf(e), e, "%s of %s: %s", what, target.describe(), Messages.of(e));
        }
        String hint = switch (Errors.kindOf(e)) {
            case FAILED_PRECONDITION -> " (one berth process at a time owns the state directory, e.g. a running "
                    + "berth events or foreground container run)";
            case PERMISSION_DENIED -> " (containers need root)";
            default -> "";
        };
        return Errors.of(Errors.kindOf(e), e, "%s in %s: %s%s", what, target.describe(), Messages.of(e), hint);
    }
}
