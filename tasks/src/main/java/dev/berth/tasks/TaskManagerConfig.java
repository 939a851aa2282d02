package dev.berth.tasks;

import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.events.EventExchange;
import dev.berth.shims.ShimManager;
import org.jspecify.annotations.Nullable;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The settings of a {@link TaskManager}.
 *
 * @param runtimes the shim managers, selected by {@link ShimManager#runtime()}; the first is the default
 * @param schedulers where timers run
 * @param stopGrace how long {@code close()} waits after SIGTERM before SIGKILL
 * @param ownsSchedulers whether closing the manager disposes {@code schedulers}
 * @param exchange the exchange lifecycle events go to, closed with the manager; {@code null} makes a new one
 * @param clock the clock stamping the events of a new exchange
 * @param closePolicy what {@code close()} does to the tasks still owned
 */
public record TaskManagerConfig(List<ShimManager> runtimes, RuntimeSchedulers schedulers, Duration stopGrace,
        boolean ownsSchedulers, @Nullable EventExchange exchange, Clock clock, ClosePolicy closePolicy) {
    /** The default grace period between SIGTERM and SIGKILL when the service closes. */
    public static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(5);

    public TaskManagerConfig {
        runtimes = List.copyOf(runtimes);
        if (runtimes.isEmpty()) {
            throw Errors.invalidArgument("a task manager needs at least one runtime");
        }
        Objects.requireNonNull(schedulers, "schedulers");
        Objects.requireNonNull(stopGrace, "stopGrace");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(closePolicy, "closePolicy");
    }

    /** A builder whose default runtime is {@code defaultRuntime}. */
    public static Builder builder(ShimManager defaultRuntime, RuntimeSchedulers schedulers) {
        return new Builder(defaultRuntime, schedulers);
    }

    /** Builds a {@link TaskManagerConfig}. */
    public static final class Builder {
        private final List<ShimManager> runtimes = new ArrayList<>();
        private final RuntimeSchedulers schedulers;
        private Duration stopGrace = DEFAULT_STOP_GRACE;
        private boolean ownsSchedulers;
        private @Nullable EventExchange exchange;
        private Clock clock = Clock.systemUTC();
        private ClosePolicy closePolicy = ClosePolicy.STOP;

        Builder(ShimManager defaultRuntime, RuntimeSchedulers schedulers) {
            runtimes.add(Objects.requireNonNull(defaultRuntime, "defaultRuntime"));
            this.schedulers = Objects.requireNonNull(schedulers, "schedulers");
        }

        /** Adds another runtime. */
        public Builder runtime(ShimManager runtime) {
            runtimes.add(Objects.requireNonNull(runtime, "runtime"));
            return this;
        }

        /** Sets the grace period between SIGTERM and SIGKILL on close. */
        public Builder stopGrace(Duration grace) {
            this.stopGrace = Objects.requireNonNull(grace, "grace");
            return this;
        }

        /** Makes closing the manager dispose the schedulers. */
        public Builder ownsSchedulers(boolean owns) {
            this.ownsSchedulers = owns;
            return this;
        }

        /** Publishes lifecycle events to {@code exchange} (shared with shims that forward events). */
        public Builder exchange(EventExchange exchange) {
            this.exchange = Objects.requireNonNull(exchange, "exchange");
            return this;
        }

        /** Sets the clock that stamps events when the manager makes its own exchange (UTC by default). */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Sets what {@code close()} does to the tasks still owned ({@link ClosePolicy#STOP} by default). */
        public Builder closePolicy(ClosePolicy policy) {
            this.closePolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        public TaskManagerConfig build() {
            return new TaskManagerConfig(runtimes, schedulers, stopGrace, ownsSchedulers, exchange, clock,
                    closePolicy);
        }
    }
}
