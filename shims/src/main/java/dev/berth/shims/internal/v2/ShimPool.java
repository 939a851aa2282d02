package dev.berth.shims.internal.v2;

import dev.berth.core.Errors;
import dev.berth.core.internal.ttrpc.TtrpcClient;
import dev.berth.core.internal.undo.Undo;
import dev.berth.shims.internal.v2.proto.ConnectRequest;
import dev.berth.shims.internal.v2.proto.ShutdownRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The shim daemons of a manager, a few per namespace, each serving many tasks (spec pitfall 7). A task's create no
 * longer pays for the binary's {@code start} action, a daemon's start-up, a connection and Connect, nor its delete
 * for Shutdown and the daemon's exit: those happen once per daemon. ({@code containerd}'s grouping still runs the
 * {@code start} and {@code delete} actions for every task; Berth runs neither for a task of a known daemon.)
 *
 * <p>A create goes to the daemon with the fewest tasks; a new daemon is started while every daemon is busy and the
 * namespace has fewer than {@code perNamespace}. The shim runs one {@code runc create} at a time (it holds a lock
 * over Create), so several daemons let concurrent creates overlap. A daemon whose last task is deleted stays for
 * {@code linger} (zero: it is shut down with that delete), then is shut down and its home removed. A daemon whose
 * connection drops is lost: it is removed from the pool and its socket and home are cleaned up; each of its tasks
 * cleans up after itself ({@link V2Shim}). On {@link #close()} every idle daemon is shut down; one with tasks let go
 * (detached) is left running with its home for a later restore.
 */
final class ShimPool {
    private static final Logger log = LoggerFactory.getLogger(ShimPool.class);
    /** The shim directory: a dot-name, which no namespace can take. */
    static final String HOMES = ".shims";

    private final V2ShimManager manager;
    private final int perNamespace;
    private final Duration linger;
    /** Daemons by namespace; guarded by {@code this}. */
    private final Map<String, List<PooledShim>> shims = new HashMap<>();
    /** Starts under way by namespace; guarded by {@code this}. */
    private final Map<String, List<Mono<PooledShim>>> starting = new HashMap<>();
    /** Shutdowns under way, which close() waits for; guarded by {@code this}. */
    private final List<Mono<Void>> retiring = new ArrayList<>();
    private boolean closed;
    private final String prefix = "shim-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    private final AtomicLong names = new AtomicLong();

    ShimPool(V2ShimManager manager, int perNamespace, Duration linger) {
        if (perNamespace < 1 || linger.isNegative()) {
            throw Errors.invalidArgument("a shim pool needs at least one shim per namespace and a linger >= 0");
        }
        this.manager = manager;
        this.perNamespace = perNamespace;
        this.linger = linger;
    }

    /**
     * A daemon for one more task of {@code namespace}: the least busy one, or a new one started with
     * {@code shimStart} while all are busy and there is room.
     *
     * @return a cold Mono of the task's lease; fails as the start of a daemon does (the start's steps undone), or
     *     with UNAVAILABLE once the pool is closed
     */
    Mono<PooledShim.Lease> acquire(String namespace, Mono<ShimStart> shimStart) {
        return Mono.defer(() -> {
            Mono<PooledShim> pending;
            synchronized (this) {
                if (closed) {
                    return Mono.error(Errors.unavailable("the shim v2 runtime is closed"));
                }
                List<PooledShim> open = shims.getOrDefault(namespace, List.of()).stream()
                        .filter(s -> s.state == PooledShim.State.OPEN && s.eligible())
                        .toList();
                List<Mono<PooledShim>> started = starting.computeIfAbsent(namespace, n -> new ArrayList<>());
                PooledShim best = open.stream().min(Comparator.comparingInt(s -> s.tasks)).orElse(null);
                boolean room = open.size() + started.size() < perNamespace;
                if (best != null && (best.tasks == 0 || !room)) {
                    return Mono.just(take(best));
                }
                if (!room) {
                    // Every daemon is still starting: wait for one, then choose again.
                    return Flux.merge(List.copyOf(started)).next().onErrorResume(e -> Mono.empty())
                            .then(acquire(namespace, shimStart));
                }
                AtomicReference<@Nullable Mono<PooledShim>> self = new AtomicReference<>();
                pending = shimStart.flatMap(start -> start(namespace, start))
                        .doFinally(signal -> {
                            synchronized (this) {
                                started.remove(self.get());
                            }
                        })
                        .cache();
                self.set(pending);
                started.add(pending);
            }
            Mono<PooledShim> daemon = pending;
            return daemon.map(shim -> {
                        synchronized (this) {
                            if (shim.state != PooledShim.State.OPEN) {
                                throw Errors.unavailable("%s went away before its first task", shim);
                            }
                            return take(shim);
                        }
                    })
                    // A create cancelled while its daemon starts: the daemon, once up, idles like any other.
                    .doOnCancel(() -> daemon.subscribe(shim -> idle(shim).subscribe(null,
                            e -> log.warn("[{}] ending an idle shim failed", shim.name(), e)), e -> { }));
        });
    }

    /** Counts one more task on {@code shim}; under the lock. */
    private PooledShim.Lease take(PooledShim shim) {
        shim.tasks++;
        if (shim.linger != null) {
            shim.linger.dispose();
            shim.linger = null;
        }
        return shim.lease();
    }

    /**
     * The daemon serving {@code socket} in {@code namespace}, if the pool knows it (a restore reuses its
     * connection).
     */
    synchronized @Nullable PooledShim find(String namespace, Path socket) {
        for (PooledShim shim : shims.getOrDefault(namespace, List.of())) {
            if (shim.state == PooledShim.State.OPEN && shim.socket().equals(socket)) {
                return shim;
            }
        }
        return null;
    }

    /**
     * A restored task's hold on its daemon: the pool's daemon for {@code socket} if it has one (a connection of the
     * caller's other than its own is closed), else a new ineligible daemon over the caller's connection, with
     * {@code logDrain} as its log's reader.
     */
    PooledShim.Lease adopt(String namespace, Path socket, TtrpcClient ttrpc, ShimTaskClient client, int shimPid,
            Disposable logDrain) {
        PooledShim known;
        PooledShim.Lease lease;
        synchronized (this) {
            known = find(namespace, socket);
            if (known == null) {
                known = add(new PooledShim(this, namespace, null, socket, ttrpc, client, shimPid, logDrain));
                lease = take(known);
                return lease;
            }
            lease = take(known);
        }
        if (known.ttrpc() != ttrpc) {
            ttrpc.close().onErrorResume(e -> Mono.empty()).subscribe();
            logDrain.dispose();
        }
        return lease;
    }

    /** Registers a live daemon (started or found again) and watches its connection; under the lock. */
    private PooledShim add(PooledShim shim) {
        shims.computeIfAbsent(shim.namespace(), n -> new ArrayList<>()).add(shim);
        shim.ttrpc().onClose().subscribe(null, e -> connectionGone(shim), () -> connectionGone(shim));
        return shim;
    }

    /** A daemon found in its home by a restore: pooled again, idle until a task is adopted on it or created. */
    synchronized void restored(String namespace, Bundle home, Path socket, TtrpcClient ttrpc, ShimTaskClient client,
            int shimPid, Disposable logDrain) {
        add(new PooledShim(this, namespace, home, socket, ttrpc, client, shimPid, logDrain));
    }

    /** After a restore adopted what it found: the daemons left without a task start their linger. */
    Mono<Void> settle() {
        return Mono.defer(() -> {
            List<PooledShim> idle = new ArrayList<>();
            synchronized (this) {
                shims.values().forEach(list -> list.stream()
                        .filter(s -> s.state == PooledShim.State.OPEN && s.tasks == 0)
                        .forEach(idle::add));
            }
            return Flux.fromIterable(idle).concatMap(this::idle).then();
        });
    }

    /** The task count of {@code shim} may have reached zero: end it now, or after the linger. */
    private Mono<Void> idle(PooledShim shim) {
        synchronized (this) {
            if (shim.tasks > 0 || shim.state != PooledShim.State.OPEN) {
                return Mono.empty();
            }
            if (closed || linger.isZero() || !shim.eligible()) {
                return retire(shim);
            }
            if (shim.linger == null) {
                shim.linger = manager.schedulers().timer().schedule(() -> expire(shim), linger.toMillis(),
                        TimeUnit.MILLISECONDS);
            }
            return Mono.empty();
        }
    }

    private void expire(PooledShim shim) {
        Mono<Void> end;
        synchronized (this) {
            shim.linger = null;
            if (shim.tasks > 0 || shim.state != PooledShim.State.OPEN) {
                return;
            }
            end = retire(shim);
        }
        end.subscribe(null, e -> log.warn("[{}] ending an idle shim failed", shim.name(), e));
    }

    /** One task of {@code shim} was deleted ({@code detached} false) or let go with its container running. */
    Mono<Void> release(PooledShim shim, boolean detached) {
        return Mono.defer(() -> {
            synchronized (this) {
                shim.tasks--;
                if (detached) {
                    shim.detached++;
                }
            }
            return idle(shim);
        });
    }

    /**
     * Takes {@code shim} out of the pool and ends it: Shutdown, the connection closed, the daemon's exit awaited
     * (SIGKILL after a timeout), its log drain, socket and home removed. A daemon with detached tasks is only let go
     * (connection closed, nothing removed). Under the lock; the returned Mono is cached and tracked for close().
     */
    private Mono<Void> retire(PooledShim shim) {
        shim.state = PooledShim.State.CLOSING;
        if (shim.linger != null) {
            shim.linger.dispose();
            shim.linger = null;
        }
        shims.getOrDefault(shim.namespace(), new ArrayList<>()).remove(shim);
        Mono<Void> end;
        if (shim.detached > 0) {
            end = shim.ttrpc().close()
                    .then(Mono.<Void>fromRunnable(shim.logDrain()::dispose))
                    .doOnSuccess(v -> log.debug("[{}] let go, {} detached task(s) still under it", shim.name(),
                            shim.detached));
        } else {
            end = shim.client().shutdown(ShutdownRequest.newBuilder().setId(idOf(shim)).build())
                    .onErrorResume(e -> {
                        log.warn("[{}] shutdown failed; waiting for it anyway", shim.name(), e);
                        return Mono.empty();
                    })
                    .then(shim.ttrpc().close())
                    // The shim ignores Shutdown while it still has a container: one Berth does not know of (a
                    // restored home whose bundle was lost, say). It is left running then, never killed under it.
                    .then(manager.pidGone(shim.shimPid())
                            .timeout(V2ShimManager.SHIM_EXIT_TIMEOUT, manager.schedulers().timer())
                            .thenReturn(true)
                            .onErrorResume(java.util.concurrent.TimeoutException.class, e -> Mono.just(false)))
                    .flatMap(gone -> {
                        shim.logDrain().dispose();
                        if (!gone) {
                            log.warn("[{}] still running {} after Shutdown: it serves containers Berth does not "
                                    + "know; left running with its home", shim.name(), V2ShimManager.SHIM_EXIT_TIMEOUT);
                            return Mono.<Void>empty();
                        }
                        return removeFiles(shim).doOnSuccess(v -> log.debug("[{}] shut down", shim.name()));
                    });
        }
        Mono<Void> tracked = end.onErrorResume(e -> {
            log.warn("[{}] ending the shim failed", shim.name(), e);
            return Mono.empty();
        }).cache();
        retiring.add(tracked);
        return tracked.doFinally(signal -> {
            synchronized (this) {
                retiring.remove(tracked);
            }
        });
    }

    private static String idOf(PooledShim shim) {
        return shim.home() == null ? "berth" : shim.home().id();
    }

    private Mono<Void> removeFiles(PooledShim shim) {
        Bundle home = shim.home();
        return manager.deadShims().removeSocket(shim.socket())
                .then(home == null ? Mono.empty() : manager.bundles().remove(home));
    }

    /** The connection ended: a loss unless we were ending the daemon. */
    private void connectionGone(PooledShim shim) {
        synchronized (this) {
            if (shim.state != PooledShim.State.OPEN) {
                return;
            }
            shim.state = PooledShim.State.LOST;
            if (shim.linger != null) {
                shim.linger.dispose();
                shim.linger = null;
            }
            shims.getOrDefault(shim.namespace(), new ArrayList<>()).remove(shim);
        }
        log.warn("[{}] connection dropped: the daemon is lost ({} task(s) on it clean up after themselves)",
                shim.name(), shim.tasks);
        Mono<Void> cleanup = manager.deadShims().killIfAlive(shim.shimPid(), shim.name())
                .then(Mono.<Void>fromRunnable(shim.logDrain()::dispose))
                .then(removeFiles(shim))
                .onErrorResume(e -> {
                    log.warn("[{}] cleanup after the shim's loss failed", shim.name(), e);
                    return Mono.empty();
                })
                .cache();
        synchronized (this) {
            retiring.add(cleanup);
        }
        cleanup.doFinally(signal -> {
            synchronized (this) {
                retiring.remove(cleanup);
            }
        }).subscribe();
    }

    /**
     * Starts a daemon for the pool in a new home of {@code namespace}: the home ({@code config.json}, log FIFO), our
     * log reader, the binary's {@code start} there, the connection, Connect. Every step is undone if a later one
     * fails or the start is cancelled.
     */
    private Mono<PooledShim> start(String namespace, ShimStart shimStart) {
        return Mono.defer(() -> {
            Bundle home = manager.bundles().locateHome(namespace, prefix + "-" + names.incrementAndGet());
            Undo undo = new Undo("shim " + namespace + "/" + home.id(), manager.schedulers().timer());
            String who = namespace + "/" + home.id();
            AtomicReference<@Nullable Disposable> logDrain = new AtomicReference<>();
            AtomicReference<@Nullable Path> socket = new AtomicReference<>();
            AtomicReference<@Nullable TtrpcClient> connection = new AtomicReference<>();
            return manager.bundles().createHome(home)
                    .doOnSuccess(v -> undo.push("remove the shim's home", () -> manager.bundles().remove(home)))
                    .then(Mono.defer(() -> manager.bundles().openLog(home)))
                    .doOnNext(fd -> {
                        Disposable drain = manager.drainShimLog(fd, who);
                        logDrain.set(drain);
                        undo.push("close the log FIFO", () -> Mono.fromRunnable(drain::dispose));
                    })
                    .then(Mono.defer(() -> shimStart.start(home)))
                    .doOnNext(address -> {
                        socket.set(Path.of(address));
                        undo.push("remove the socket", () -> manager.deadShims().removeSocket(Path.of(address)));
                    })
                    .flatMap(address -> TtrpcClient.connect(Path.of(address), manager.schedulers().timer()))
                    .flatMap(ttrpc -> {
                        connection.set(ttrpc);
                        ShimTaskClient client = ShimTaskClient.create(ttrpc);
                        undo.push("shut the shim down", () -> client.shutdown(
                                        ShutdownRequest.newBuilder().setId(home.id()).build())
                                .onErrorResume(e -> Mono.empty())
                                .then(ttrpc.close()));
                        return client.connect(ConnectRequest.newBuilder().setId(home.id()).build())
                                .map(connected -> {
                                    int pid = connected.getShimPid();
                                    synchronized (this) {
                                        PooledShim shim = new PooledShim(this, namespace, home, socket.get(), ttrpc,
                                                client, pid, logDrain.get());
                                        if (closed) {
                                            throw Errors.unavailable("the shim v2 runtime is closed");
                                        }
                                        add(shim);
                                        undo.commit();
                                        log.debug("[{}] shim started, pid {}", who, pid);
                                        return shim;
                                    }
                                });
                    })
                    .onErrorResume(e -> undo.run().then(Mono.error(e)))
                    .doOnCancel(() -> undo.run().subscribe());
        });
    }

    /**
     * Ends every idle daemon (Shutdown, exit awaited, home removed) and lets go of those with tasks left, which
     * keep running with their homes for a restore; waits for the ends under way. Idempotent.
     */
    Mono<Void> close() {
        return Mono.defer(() -> {
            List<Mono<Void>> ends = new ArrayList<>();
            synchronized (this) {
                closed = true;
                List<PooledShim> all = new ArrayList<>();
                shims.values().forEach(all::addAll);
                for (PooledShim shim : all) {
                    if (shim.state == PooledShim.State.OPEN) {
                        if (shim.tasks > 0) {
                            shim.detached += shim.tasks; // still held: never shut down under a task
                        }
                        ends.add(retire(shim));
                    }
                }
                ends.addAll(retiring);
            }
            return Flux.merge(ends).then();
        });
    }

    /** The homes of daemons this pool may start: {@code <state>/.shims}. */
    static Path homes(Path state) {
        return state.resolve(HOMES);
    }
}
