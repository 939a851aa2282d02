package dev.berth.shims.internal.v2;

import dev.berth.core.internal.ttrpc.TtrpcClient;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * One {@code containerd-shim-runc-v2} daemon serving any number of tasks of one namespace over one connection. The
 * shim keeps one container per task id and answers {@code Shutdown} with a no-op while it has any (spec pitfall 7),
 * so a daemon outlives its first task; {@link ShimPool} counts the tasks and decides when it goes.
 *
 * <p>A daemon Berth started for the pool lives in its own home, {@code <state>/.shims/<namespace>/<name>} (its cwd:
 * a {@code config.json} without annotations, its {@code log} FIFO, its {@code address}), never in a task's bundle,
 * so deleting any task never pulls its directory away. A daemon a restore found under a task's bundle without a home
 * has none and takes no new tasks.
 */
final class PooledShim {
    /** Where a daemon is in its life; changed only under the pool's lock. */
    enum State {
        /** Serving; may take tasks if {@link #eligible()}. */
        OPEN,
        /** Being shut down or let go by us. */
        CLOSING,
        /** Its connection dropped without our doing. */
        LOST
    }

    private final ShimPool pool;
    private final String namespace;
    private final @Nullable Bundle home;
    private final Path socket;
    private final TtrpcClient ttrpc;
    private final ShimTaskClient client;
    private final int shimPid;
    private final Disposable logDrain;
    /** Guarded by the pool. */
    int tasks;
    /** Tasks let go of with their container still running; guarded by the pool. */
    int detached;
    /** Guarded by the pool. */
    State state = State.OPEN;
    /** The pending end of an idle daemon; guarded by the pool. */
    @Nullable Disposable linger;

    PooledShim(ShimPool pool, String namespace, @Nullable Bundle home, Path socket, TtrpcClient ttrpc,
            ShimTaskClient client, int shimPid, Disposable logDrain) {
        this.pool = Objects.requireNonNull(pool, "pool");
        this.namespace = Objects.requireNonNull(namespace, "namespace");
        this.home = home;
        this.socket = Objects.requireNonNull(socket, "socket");
        this.ttrpc = Objects.requireNonNull(ttrpc, "ttrpc");
        this.client = Objects.requireNonNull(client, "client");
        this.shimPid = shimPid;
        this.logDrain = Objects.requireNonNull(logDrain, "logDrain");
    }

    String namespace() {
        return namespace;
    }

    /** The daemon's own directory, or null for one found in a task's bundle. */
    @Nullable Bundle home() {
        return home;
    }

    /** Whether new tasks may go to this daemon: only one the pool started, in its own home. */
    boolean eligible() {
        return home != null;
    }

    Path socket() {
        return socket;
    }

    TtrpcClient ttrpc() {
        return ttrpc;
    }

    ShimTaskClient client() {
        return client;
    }

    /** The daemon's pid, from Connect. */
    int shimPid() {
        return shimPid;
    }

    Disposable logDrain() {
        return logDrain;
    }

    String name() {
        return namespace + "/" + (home == null ? socket.getFileName() : home.id());
    }

    /** A new hold for one task; the pool has counted it already. */
    Lease lease() {
        return new Lease();
    }

    @Override
    public String toString() {
        return "shim " + name() + " (pid " + shimPid + ")";
    }

    /** One task's hold on the daemon, given back exactly once. */
    final class Lease {
        private final AtomicBoolean returned = new AtomicBoolean();

        PooledShim shim() {
            return PooledShim.this;
        }

        /**
         * The task was deleted from the daemon: one task fewer. The last one ends an ineligible daemon now (Shutdown,
         * its exit awaited) and an eligible one after the pool's linger.
         *
         * @return a cold Mono completing when the daemon is given back (and, if it ends now, gone)
         */
        Mono<Void> release() {
            return Mono.defer(() -> returned.compareAndSet(false, true) ? pool.release(PooledShim.this, false)
                    : Mono.empty());
        }

        /** The task was let go with its container running: the daemon must not be shut down under it. */
        Mono<Void> detach() {
            return Mono.defer(() -> returned.compareAndSet(false, true) ? pool.release(PooledShim.this, true)
                    : Mono.empty());
        }
    }
}
