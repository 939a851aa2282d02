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
                config.exchange(), config.drainTimeout());
    }

    /**
     * The runtime's settings.
     *
     * @param state the state directory: bundles live in {@code <state>/<namespace>/<id>} and runc's state in
     *     {@code <state>/.runc/<namespace>} (never runc's default root, which a containerd on the same host uses);
     *     its absolute path is also the {@code -address} every shim gets, so two state directories never share shim
     *     sockets. One owner at a time: {@code <state>/.lock}.
     * @param schedulers where system calls and timers run
     * @param syscalls the system-call port
     * @param eventsSocket where the shims forward their events ({@code TTRPC_ADDRESS}); by default
     *     {@code <state>/.events.sock}. At most 107 bytes.
     * @param exchange where forwarded events go; when null, the manager uses a private exchange that drops them
     * @param drainTimeout how long an exited process's output may stay silent before its stream ends
     */
    public record Config(Path state, RuntimeSchedulers schedulers, Syscalls syscalls, @Nullable Path eventsSocket,
            @Nullable EventExchange exchange, Duration drainTimeout) {
        public Config {
            Objects.requireNonNull(state, "state");
            Objects.requireNonNull(schedulers, "schedulers");
            Objects.requireNonNull(syscalls, "syscalls");
            Objects.requireNonNull(drainTimeout, "drainTimeout");
        }

        /** Linux system calls, {@code <state>/.events.sock}, a private exchange and the default drain timeout. */
        public static Config defaults(Path state, RuntimeSchedulers schedulers) {
            return new Config(state, schedulers, Syscalls.linux(), null, null, DEFAULT_DRAIN_TIMEOUT);
        }

        /** This config forwarding the shims' events into {@code exchange}. */
        public Config withExchange(EventExchange exchange) {
            return new Config(state, schedulers, syscalls, eventsSocket, Objects.requireNonNull(exchange), drainTimeout);
        }
    }
}
