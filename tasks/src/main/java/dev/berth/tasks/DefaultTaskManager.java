package dev.berth.tasks;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.EventSubscriber;
import dev.berth.events.EventExchange;
import dev.berth.core.Identifiers;
import dev.berth.core.KillScope;
import dev.berth.core.Namespaces;
import dev.berth.core.Signal;
import dev.berth.core.Task;
import dev.berth.core.TaskSpec;
import dev.berth.core.TaskStatus;
import dev.berth.shims.RestoredShim;
import dev.berth.shims.ShimManager;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** {@link TaskManager} over the configured shim managers. */
final class DefaultTaskManager implements TaskManager {
    private static final Logger log = LoggerFactory.getLogger(DefaultTaskManager.class);

    private final TaskManagerConfig config;
    private final Map<String, ShimManager> runtimes = new LinkedHashMap<>();
    private final String defaultRuntime;
    /** Keyed by (namespace, id); a slot with no task yet is a create in progress. */
    private final Map<Key, Slot> registry = new ConcurrentHashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Mono<Void> closing;
    private final EventExchange exchange;

    private record Key(String namespace, String id) {
    }

    private static final class Slot {
        volatile @Nullable ManagedTask task;
        /** Completes when the create that reserved the slot is over, however it ended. */
        final Sinks.Empty<Void> settled = Sinks.empty();
    }

    /** How long a restore waits for the exit of a task the runtime found stopped. */
    static final java.time.Duration RESTORED_EXIT_TIMEOUT = java.time.Duration.ofSeconds(10);

    /** How long close waits for creates under way to finish (each has its own, shorter, timeouts). */
    static final java.time.Duration CREATES_SETTLE_TIMEOUT = java.time.Duration.ofSeconds(60);

    DefaultTaskManager(TaskManagerConfig config) {
        this.config = config;
        config.runtimes().forEach(r -> runtimes.put(r.runtime(), r));
        this.defaultRuntime = config.runtimes().get(0).runtime();
        this.exchange = config.exchange() != null ? config.exchange()
                : EventExchange.create(config.schedulers(), config.clock());
        this.closing = Mono.defer(this::shutdown).cache(); // hot on purpose: close runs once, later calls wait
    }

    @Override
    public Mono<Task> create(TaskSpec spec) {
        return Mono.deferContextual(ctx -> {
            String namespace = Namespaces.of(ctx);
            spec.validate();
            if (closed.get()) {
                return Mono.error(Errors.unavailable("the task service is closed"));
            }
            String runtimeName = spec.runtime().isEmpty() ? defaultRuntime : spec.runtime();
            ShimManager runtime = runtimes.get(runtimeName);
            if (runtime == null) {
                return Mono.error(Errors.notFound("runtime %s is not configured (have %s)", runtimeName,
                        runtimes.keySet()));
            }
            Key key = new Key(namespace, spec.id());
            Slot slot = new Slot();
            if (registry.putIfAbsent(key, slot) != null) {
                return Mono.error(Errors.alreadyExists("task %s already exists in namespace %s", spec.id(),
                        namespace));
            }
            return runtime.create(namespace, spec)
                    .<Task>map(shim -> {
                        TaskEvents events = new TaskEvents(exchange, namespace);
                        ManagedTask task = new ManagedTask(namespace, spec, shim, events,
                                () -> registry.remove(key, slot), ProcessState.CREATED);
                        slot.task = task;
                        events.created(spec.id(), 0);
                        task.watchExit();
                        task.watchLost();
                        log.debug("[{}/{}] task created", namespace, spec.id());
                        return task;
                    })
                    .doOnError(e -> registry.remove(key, slot))
                    .doOnCancel(() -> registry.remove(key, slot))
                    .doFinally(signal -> slot.settled.tryEmitEmpty());
        });
    }

    @Override
    public Flux<Task> restore() {
        return Flux.defer(() -> {
            if (closed.get()) {
                return Flux.error(Errors.unavailable("the task service is closed"));
            }
            return Flux.fromIterable(runtimes.values())
                    .concatMap(ShimManager::restore)
                    .concatMap(restored -> {
                        Task task = adopt(restored);
                        if (task == null || restored.status() != TaskStatus.STOPPED) {
                            return Mono.justOrEmpty(task);
                        }
                        // Found stopped: handed out once its exit (the Wait's reply) is applied, so it reads STOPPED.
                        return task.exit().timeout(RESTORED_EXIT_TIMEOUT, config.schedulers().timer())
                                .onErrorResume(e -> {
                                    log.warn("[{}/{}] restored stopped, but its exit did not come within {}",
                                            restored.namespace(), task.id(), RESTORED_EXIT_TIMEOUT);
                                    return Mono.empty();
                                })
                                .thenReturn(task);
                    });
        });
    }

    /**
     * Registers a restored task in the state it was found in, then follows its exit and loss: an exit that came
     * while nobody owned the task is published now (its {@code /tasks/create} and {@code /tasks/start} were the
     * previous owner's).
     */
    private @Nullable Task adopt(RestoredShim restored) {
        TaskSpec spec = restored.spec();
        Key key = new Key(restored.namespace(), spec.id());
        Slot slot = new Slot();
        if (registry.putIfAbsent(key, slot) != null) {
            // restore() called again: this second handle lets go of its connection and descriptors, the task stays
            log.warn("[{}/{}] restored twice: the second handle is released", key.namespace(), key.id());
            restored.shim().detach().subscribe(null, e -> log.debug("[{}/{}] second handle not released",
                    key.namespace(), key.id(), e));
            return null;
        }
        ProcessState initial = switch (restored.status()) {
            case CREATED -> ProcessState.CREATED;
            case PAUSED -> new ProcessState.Paused(restored.pid());
            // A stopped one is adopted as running: its hot exit, already there, moves it on and is published.
            default -> new ProcessState.Running(restored.pid());
        };
        TaskEvents events = new TaskEvents(exchange, restored.namespace());
        ManagedTask task = new ManagedTask(restored.namespace(), spec, restored.shim(), events,
                () -> registry.remove(key, slot), initial);
        slot.task = task;
        slot.settled.tryEmitEmpty();
        log.info("[{}/{}] restored, {} (pid {})", key.namespace(), key.id(), restored.status(), restored.pid());
        task.watchExit();
        task.watchLost();
        return task;
    }

    @Override
    public Mono<Task> get(String id) {
        return Mono.deferContextual(ctx -> {
            String namespace = Namespaces.of(ctx);
            Identifiers.validate("task id", id);
            Slot slot = registry.get(new Key(namespace, id));
            ManagedTask task = slot == null ? null : slot.task;
            if (task == null) {
                return Mono.error(Errors.notFound("task %s not found in namespace %s", id, namespace));
            }
            return Mono.just(task);
        });
    }

    @Override
    public Flux<Task> list() {
        return Flux.deferContextual(ctx -> {
            String namespace = Namespaces.of(ctx);
            return Flux.fromIterable(registry.entrySet())
                    .filter(e -> e.getKey().namespace().equals(namespace))
                    .<Task>mapNotNull(e -> e.getValue().task);
        });
    }

    @Override
    public EventSubscriber events() {
        return exchange;
    }

    @Override
    public Mono<Void> close() {
        return Mono.defer(() -> {
            closed.set(true);
            return closing;
        });
    }

    /**
     * Waits for the creates under way (no new one is accepted), so that each one either becomes a task that is
     * stopped below or has been undone while its runtime is still open; then stops or detaches every task, closes
     * the runtimes and the exchange.
     */
    private Mono<Void> shutdown() {
        return Flux.fromIterable(registry.values())
                .flatMap(slot -> slot.settled.asMono())
                .then()
                .timeout(CREATES_SETTLE_TIMEOUT, config.schedulers().timer())
                .onErrorResume(e -> {
                    log.warn("creates still under way after {}: closing anyway", CREATES_SETTLE_TIMEOUT);
                    return Mono.empty();
                })
                .thenMany(Flux.defer(() -> Flux.fromIterable(registry.values())))
                .mapNotNull(slot -> slot.task)
                .flatMap(this::stopOrDetach)
                .then(Flux.fromIterable(runtimes.values()).concatMap(ShimManager::close).then())
                .then(exchange.close())
                .then(Mono.defer(() -> config.ownsSchedulers() ? disposeSchedulers() : Mono.empty()));
    }

    /**
     * Disposes the schedulers on a short-lived thread of its own: shutting a pool down takes its lock, which may
     * wait, and close can complete on any thread, Netty's non-blocking ones included.
     */
    private Mono<Void> disposeSchedulers() {
        return Mono.create(sink -> {
            Thread thread = new Thread(() -> {
                try {
                    config.schedulers().dispose();
                } catch (RuntimeException e) {
                    log.warn("schedulers did not stop cleanly", e);
                }
                sink.success();
            }, "berth-shutdown");
            thread.setDaemon(true);
            thread.start();
        });
    }

    /** Under {@link ClosePolicy#DETACH}, a task whose shim can outlive us is let go; every other one is stopped. */
    private Mono<Void> stopOrDetach(ManagedTask task) {
        if (config.closePolicy() != ClosePolicy.DETACH) {
            return stop(task);
        }
        return task.detach()
                .onErrorResume(e -> Errors.is(e, ErrorKind.NOT_IMPLEMENTED), e -> stop(task))
                .onErrorResume(e -> {
                    log.warn("[{}/{}] detach on close failed", task.namespace(), task.id(), e);
                    return Mono.empty();
                });
    }

    /** SIGTERM, the grace period, SIGKILL, then delete: a cleanup, so failures are logged, never raised. */
    private Mono<Void> stop(ManagedTask task) {
        Mono<Void> terminate = task.state.get().live()
                ? task.kill(Signal.TERM, KillScope.ALL)
                        // a paused task cannot act on SIGTERM until it runs again
                        .then(Mono.defer(() -> task.state.get() instanceof ProcessState.Paused
                                ? task.resume() : Mono.empty()))
                        .then(task.exit().timeout(config.stopGrace(), config.schedulers().timer()).then())
                        .onErrorResume(e -> task.kill(Signal.KILL, KillScope.ALL).onErrorResume(k -> Mono.empty()))
                : Mono.empty();
        return terminate
                .then(task.delete(true))
                .then()
                .onErrorResume(e -> {
                    log.warn("[{}/{}] cleanup on close failed", task.namespace(), task.id(), e);
                    return Mono.empty();
                });
    }
}
