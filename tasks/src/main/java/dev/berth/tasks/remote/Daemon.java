package dev.berth.tasks.remote;

import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.os.Syscalls;
import dev.berth.io.IoLoop;
import dev.berth.tasks.remote.proto.health.HealthCheckRequest;
import dev.berth.tasks.remote.proto.health.HealthCheckResponse;
import dev.berth.tasks.remote.proto.health.HealthGrpc;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;
import reactor.util.retry.RetryBackoffSpec;

/**
 * What every task, process and subscription of one remote service shares: the daemon's calls, the schedulers, the
 * syscalls and I/O loop for the FIFOs, the FIFO root, and the reconnect policy (capped backoff, each retry gated on
 * the daemon's health reporting SERVING; spec §1.4, peers-and-lessons §2.4).
 */
final class Daemon {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);
    static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(2);
    /** How long {@link #resumed()} waits for the event subscriptions to be confirmed again. */
    static final Duration RESUBSCRIBE_WAIT = Duration.ofSeconds(5);

    final Calls calls;
    final RuntimeSchedulers schedulers;
    final Syscalls sys;
    final IoLoop loop;
    final Path fifoRoot;
    final Duration drainTimeout;
    /** Set when the service closes: nothing reconnects any more. */
    final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private final Set<Object> resubscribing = ConcurrentHashMap.newKeySet();
    private final Sinks.Many<Boolean> changes = Sinks.many().multicast().directBestEffort();

    Daemon(Calls calls, RuntimeSchedulers schedulers, Syscalls sys, IoLoop loop, Path fifoRoot,
            Duration drainTimeout) {
        this.calls = calls;
        this.schedulers = schedulers;
        this.sys = sys;
        this.loop = loop;
        this.fifoRoot = fifoRoot;
        this.drainTimeout = drainTimeout;
    }

    /**
     * Completes once the daemon's health check answers SERVING, polling with capped backoff while it is
     * unreachable or not serving; fails only for a non-retryable error. Cancelling stops polling.
     */
    Mono<Void> serving() {
        return calls.unary("", HealthGrpc.getCheckMethod(), HealthCheckRequest.getDefaultInstance())
                .flatMap(r -> r.getStatus() == HealthCheckResponse.ServingStatus.SERVING ? Mono.<Void>empty()
                        : Mono.error(Errors.unavailable("containerd reports %s", r.getStatus())))
                .retryWhen(reconnect("health check"));
    }

    /**
     * Completes once the daemon serves again and every event subscription that lost its stream is subscribed
     * again and confirmed (or {@link #RESUBSCRIBE_WAIT} passed). Waits re-issued after an outage go through here,
     * so that an exit or delete that follows them is seen by the resubscribed streams: containerd replays nothing.
     */
    Mono<Void> resumed() {
        return serving().then(Flux.merge(changes.asFlux(), Mono.just(Boolean.TRUE))
                .filter(x -> resubscribing.isEmpty())
                .next()
                .then()
                .timeout(RESUBSCRIBE_WAIT, Mono.empty(), schedulers.timer()));
    }

    /** An event subscription lost its stream: {@link #resumed()} waits for it. */
    void resubscribing(Object subscription) {
        resubscribing.add(subscription);
    }

    /** An event subscription is confirmed again, or gone. */
    void resubscribed(Object subscription) {
        if (resubscribing.remove(subscription)) {
            changes.tryEmitNext(Boolean.TRUE);
        }
    }

    /** Retries UNAVAILABLE failures forever with capped backoff on the timer; other failures pass through. */
    RetryBackoffSpec reconnect(String what) {
        return Retry.backoff(Long.MAX_VALUE, FIRST_BACKOFF)
                .maxBackoff(MAX_BACKOFF)
                .scheduler(schedulers.timer())
                .filter(e -> Errors.isRetryable(e) && !closed.get())
                .doBeforeRetry(s -> log.debug("{}: containerd unavailable, retry {} ({})", what, s.totalRetries() + 1,
                        s.failure().getMessage()));
    }
}
