package dev.berth.tasks.remote;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.EventSubscriber;
import dev.berth.core.Identifiers;
import dev.berth.core.Namespaces;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import dev.berth.core.os.Syscalls;
import dev.berth.io.IoLoop;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The {@link TaskService} over a containerd daemon's gRPC API (spec containerd-grpc-api.md). Not API: public only
 * for {@code dev.berth.Berth.containerd(Path)}.
 *
 * <p>Tasks this service created are tracked (their stdio, their Waits) until deleted. Tasks found in the daemon
 * ({@link #get}, {@link #list}), created by {@code ctr} or another client, are adopted on first sight: a Wait makes
 * their exit hot, but they have no stdio here. Closing the service deletes (force) the tasks it created, detaches
 * the adopted ones, and closes the connection; the daemon keeps running them.
 */
public final class RemoteTaskService implements TaskService {
    private static final Logger log = LoggerFactory.getLogger(RemoteTaskService.class);
    /** Where the stdio FIFOs go unless configured: a dot-name under the local state root, which no namespace takes. */
    public static final Path DEFAULT_FIFO_ROOT = Path.of("/run/berth/.fifo");
    /** How long an exited process's output may stay silent before its stream ends. */
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(2);

    private final Daemon daemon;
    private final DaemonChannel channel;
    private final Clock clock;
    private final ConcurrentHashMap<String, RemoteTask> tasks = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Mono<RemoteTask>> adopting = new ConcurrentHashMap<>();
    private final RemoteEvents events;
    private final Adoption adoption;
    private final AtomicBoolean closed = new AtomicBoolean();

    private RemoteTaskService(Daemon daemon, DaemonChannel channel, Clock clock) {
        this.daemon = daemon;
        this.channel = channel;
        this.clock = clock;
        this.events = new RemoteEvents(daemon, clock, () -> List.copyOf(tasks.values()));
        this.adoption = new Adoption(daemon, clock, this::forget);
    }

    /**
     * A service over the daemon listening on {@code socket}, with FIFOs under {@code fifoRoot}. Nothing connects
     * until the first call.
     *
     * @throws dev.berth.core.BerthException UNAVAILABLE if native epoll is not available
     */
    public static RemoteTaskService connect(Path socket, Path fifoRoot, Duration drainTimeout) {
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(fifoRoot, "fifoRoot");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        RuntimeSchedulers schedulers = RuntimeSchedulers.create("berth");
        IoLoop loop = null;
        try {
            // Start the timer thread now: it times every drain and reconnect, and a thread that appears on the
            // first exit whose output lags would look like a per-task leak.
            schedulers.timer().schedule(() -> { });
            Syscalls sys = Syscalls.linux();
            loop = IoLoop.create("berth-containerd-fifo", sys);
            // Call callbacks run on the events() thread, never on the netty I/O thread.
            DaemonChannel channel = DaemonChannel.open(socket.toAbsolutePath(),
                    r -> schedulers.events().schedule(r));
            Daemon daemon = new Daemon(new Calls(channel.channel(), schedulers.timer()), schedulers, sys, loop,
                    fifoRoot.toAbsolutePath(), drainTimeout);
            return new RemoteTaskService(daemon, channel, Clock.systemUTC());
        } catch (RuntimeException e) {
            if (loop != null) {
                loop.close().subscribe(v -> { }, e::addSuppressed);
            }
            schedulers.dispose();
            throw e;
        }
    }

    private static String key(String namespace, String id) {
        return namespace + "/" + id;
    }

    private Mono<String> namespace() {
        return Mono.deferContextual(ctx -> closed.get()
                ? Mono.error(Errors.unavailable("the containerd task service is closed"))
                : Mono.just(Namespaces.of(ctx)));
    }

    @Override
    public Mono<Task> create(TaskSpec spec) {
        Objects.requireNonNull(spec, "spec");
        return namespace().flatMap(ns -> {
            TaskCreation.validate(spec);
            return new TaskCreation(daemon, ns, spec, clock, this::forget).run()
                    .map(task -> {
                        // The daemon refused a second container of this id, so an entry here is a stale adoption
                        // (its task was deleted behind our back): the new task replaces it.
                        RemoteTask stale = tasks.put(key(ns, spec.id()), task);
                        if (stale != null) {
                            stale.exit.stop();
                        }
                        return (Task) task;
                    });
        });
    }

    @Override
    public Mono<Task> get(String id) {
        return namespace().flatMap(ns -> {
            Identifiers.validate("task id", id);
            RemoteTask known = tasks.get(key(ns, id));
            if (known != null) {
                return Mono.just((Task) known);
            }
            return adopt(ns, id, null).cast(Task.class);
        });
    }

    /** One adoption per task at a time, so that concurrent gets share one Wait. */
    private Mono<RemoteTask> adopt(String ns, String id,
            dev.berth.tasks.remote.proto.types.@org.jspecify.annotations.Nullable Process process) {
        String k = key(ns, id);
        return Mono.defer(() -> {
            RemoteTask known = tasks.get(k);
            if (known != null) {
                return Mono.just(known);
            }
            Mono<RemoteTask> attempt = adoption.adopt(ns, id, process)
                    .doOnNext(t -> {
                        RemoteTask raced = tasks.putIfAbsent(k, t);
                        if (raced != null) {
                            t.exit.stop();
                        }
                    })
                    .map(t -> tasks.getOrDefault(k, t))
                    .doFinally(s -> adopting.remove(k))
                    .cache();
            Mono<RemoteTask> existing = adopting.putIfAbsent(k, attempt);
            return existing != null ? existing : attempt;
        });
    }

    @Override
    public Flux<Task> list() {
        return namespace().flatMapMany(ns -> daemon.calls.unary(ns,
                        dev.berth.tasks.remote.proto.tasks.TasksGrpc.getListMethod(),
                        dev.berth.tasks.remote.proto.tasks.ListTasksRequest.getDefaultInstance())
                .flatMapIterable(r -> r.getTasksList())
                .filter(p -> Identifiers.isValid(p.getId()))
                .concatMap(p -> {
                    RemoteTask known = tasks.get(key(ns, p.getId()));
                    return known != null ? Mono.just(known)
                            : adopt(ns, p.getId(), p).onErrorResume(e -> Errors.is(e, ErrorKind.NOT_FOUND),
                                    e -> Mono.empty());
                }));
    }

    @Override
    public EventSubscriber events() {
        return events;
    }

    private void forget(RemoteTask task) {
        tasks.remove(key(task.namespace, task.containerId), task);
    }

    /**
     * Force-deletes the tasks this service created, stops watching the adopted ones, and closes the connection.
     */
    @Override
    public Mono<Void> close() {
        return Mono.defer(() -> {
            if (!closed.compareAndSet(false, true)) {
                return Mono.empty();
            }
            // Event subscriptions end (complete) when the channel goes; see RemoteEvents.
            List<RemoteTask> all = List.copyOf(tasks.values());
            return Flux.fromIterable(all)
                    .flatMap(t -> {
                        if (!t.owned()) {
                            t.exit.stop();
                            return Mono.empty();
                        }
                        return t.delete(true)
                                .timeout(dev.berth.core.internal.undo.Undo.STEP_TIMEOUT, daemon.schedulers.timer())
                                .onErrorResume(e -> {
                                    log.warn("[{}] delete on close failed", t.who(), e);
                                    return Mono.empty();
                                })
                                .then();
                    })
                    .then(Mono.fromRunnable(() -> {
                        // Nothing reconnects from now on; Waits still pending (a delete that failed) end here.
                        daemon.closed.set(true);
                        tasks.values().forEach(t -> {
                            t.exit.stop();
                            t.execs().forEach(e -> e.exit.stop());
                        });
                    }))
                    .then(channel.close(daemon.schedulers.syscalls()))
                    .then(daemon.loop.close())
                    .doFinally(s -> daemon.schedulers.dispose());
        });
    }
}
