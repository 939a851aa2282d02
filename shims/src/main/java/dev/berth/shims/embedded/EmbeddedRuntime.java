package dev.berth.shims.embedded;

import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.os.Syscalls;
import dev.berth.shims.ShimManager;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/** The embedded runtime's entry point. */
public final class EmbeddedRuntime {
    /** The runtime name of the embedded runtime. */
    public static final String NAME = "io.berth.embedded";
    /** How long an exited process's output may stay silent before its stream ends (see {@code Process#stdout}). */
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(2);

    private EmbeddedRuntime() {
    }

    /**
     * Starts the runtime's event loop and returns its shim manager; closing the manager stops the loop.
     *
     * @throws dev.berth.core.BerthException NOT_IMPLEMENTED off Linux, UNAVAILABLE without native epoll
     */
    public static ShimManager create(Config config) {
        return EmbeddedShimManager.start(config);
    }

    /**
     * The runtime's settings.
     *
     * @param schedulers where system calls and timers run
     * @param syscalls the system-call port
     * @param clock the clock stamping exits
     * @param drainTimeout how long an exited process's output may stay silent before its stream ends
     * @param hostEnvironment the environment host processes inherit (the JVM's by default)
     */
    public record Config(RuntimeSchedulers schedulers, Syscalls syscalls, Clock clock, Duration drainTimeout,
            Map<String, String> hostEnvironment) {
        public Config {
            Objects.requireNonNull(schedulers, "schedulers");
            Objects.requireNonNull(syscalls, "syscalls");
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(drainTimeout, "drainTimeout");
            hostEnvironment = Map.copyOf(hostEnvironment);
        }

        /** Linux system calls, the UTC clock, the default drain timeout and the JVM's environment. */
        public static Config defaults(RuntimeSchedulers schedulers) {
            return new Config(schedulers, Syscalls.linux(), Clock.systemUTC(), DEFAULT_DRAIN_TIMEOUT, System.getenv());
        }

        /** This config with another drain timeout. */
        public Config withDrainTimeout(Duration timeout) {
            return new Config(schedulers, syscalls, clock, timeout, hostEnvironment);
        }
    }
}
