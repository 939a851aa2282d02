package dev.berth.shims.v2;

import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.os.Syscalls;
import dev.berth.events.EventExchange;
import dev.berth.shims.ShimManager;
import dev.berth.shims.internal.v2.ShimV2Managers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** The shim v2 runtime's entry point: tasks run as containers under {@code containerd-shim-runc-v2}. */
public final class ShimV2Runtime {
    /** The runtime name tasks select it with; it names the shim binary {@code containerd-shim-runc-v2}. */
    public static final String NAME = "io.containerd.runc.v2";
    /** How long an exited process's output may stay silent before its stream ends. */
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(2);
    /** How many shim daemons a namespace has at most, by default: concurrent creates overlap across them. */
    public static final int DEFAULT_SHIMS_PER_NAMESPACE = 4;
    /** How long a shim daemon without tasks stays for the next one, by default. */
    public static final Duration DEFAULT_SHIM_LINGER = Duration.ofSeconds(5);

    private ShimV2Runtime() {
    }

    /**
     * Returns the runtime's shim manager. Nothing is started until the first create: then the events socket is
     * bound. Closing the manager closes the socket and the event loop.
     *
     * @throws dev.berth.core.BerthException UNAVAILABLE without native epoll
     */
    public static ShimManager create(Config config) {
        Objects.requireNonNull(config, "config");
        return ShimV2Managers.start(config.state(), config.schedulers(), config.syscalls(), config.eventsSocket(),
                config.exchange(), config.drainTimeout(), config.shimsPerNamespace(), config.shimLinger());
    }

    /**
     * The runtime's settings.
     *
     * @param state the state directory: bundles live in {@code <state>/<namespace>/<id>}, the shim daemons' own
     *     directories in {@code <state>/.shims/<namespace>/<name>} and runc's state in
     *     {@code <state>/.runc/<namespace>} (never runc's default root, which a containerd on the same host uses);
     *     its absolute path is also the {@code -address} every shim gets, so two state directories never share shim
     *     sockets. One owner at a time: {@code <state>/.lock}.
     * @param schedulers where system calls and timers run
     * @param syscalls the system-call port
     * @param eventsSocket where the shims forward their events ({@code TTRPC_ADDRESS}); by default
     *     {@code <state>/.events.sock}. At most 107 bytes.
     * @param exchange where forwarded events go; when null, the manager uses a private exchange that drops them
     * @param drainTimeout how long an exited process's output may stay silent before its stream ends
     * @param shimsPerNamespace how many shim daemons one namespace has at most. Each daemon serves many tasks (a
     *     create then costs no daemon start-up, a delete no daemon exit); a new one starts while all are busy, up to
     *     this many, so that concurrent creates overlap (the shim runs one {@code runc create} at a time). A daemon
     *     that dies takes every task on it (each is reported lost with an unknown exit). At least 1.
     * @param shimLinger how long a daemon without tasks waits for a new one before it is shut down; zero shuts it
     *     down with its last task's delete. {@code close()} shuts down every idle daemon at once.
     */
    public record Config(Path state, RuntimeSchedulers schedulers, Syscalls syscalls, @Nullable Path eventsSocket,
            @Nullable EventExchange exchange, Duration drainTimeout, int shimsPerNamespace, Duration shimLinger) {
        public Config {
            Objects.requireNonNull(state, "state");
            Objects.requireNonNull(schedulers, "schedulers");
            Objects.requireNonNull(syscalls, "syscalls");
            Objects.requireNonNull(drainTimeout, "drainTimeout");
            Objects.requireNonNull(shimLinger, "shimLinger");
            if (shimsPerNamespace < 1) {
                throw dev.berth.core.Errors.invalidArgument("shimsPerNamespace must be at least 1, not %d",
                        shimsPerNamespace);
            }
            if (shimLinger.isNegative()) {
                throw dev.berth.core.Errors.invalidArgument("shimLinger %s is negative", shimLinger);
            }
        }

        /**
         * Linux system calls, {@code <state>/.events.sock}, a private exchange, the default drain timeout and the
         * default shim pool ({@link #DEFAULT_SHIMS_PER_NAMESPACE}, {@link #DEFAULT_SHIM_LINGER}).
         */
        public static Config defaults(Path state, RuntimeSchedulers schedulers) {
            return new Config(state, schedulers, Syscalls.linux(), null, null, DEFAULT_DRAIN_TIMEOUT,
                    DEFAULT_SHIMS_PER_NAMESPACE, DEFAULT_SHIM_LINGER);
        }

        /** This config forwarding the shims' events into {@code exchange}. */
        public Config withExchange(EventExchange exchange) {
            return new Config(state, schedulers, syscalls, eventsSocket, Objects.requireNonNull(exchange), drainTimeout,
                    shimsPerNamespace, shimLinger);
        }

        /** This config with another shim pool: at most {@code perNamespace} daemons, idle ones kept {@code linger}. */
        public Config withShimPool(int perNamespace, Duration linger) {
            return new Config(state, schedulers, syscalls, eventsSocket, exchange, drainTimeout, perNamespace, linger);
        }
    }
}
