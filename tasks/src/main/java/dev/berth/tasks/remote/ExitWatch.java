package dev.berth.tasks.remote;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.tasks.remote.proto.tasks.TasksGrpc;
import dev.berth.tasks.remote.proto.tasks.WaitRequest;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The hot exit of one process, fed by a {@code Tasks/Wait} issued as soon as the process exists (spec §7.2): Wait is
 * based on the shim's stored state, so unlike {@code /tasks/exit} it cannot miss even the fastest exit.
 *
 * <p>When the daemon goes away the Wait fails UNAVAILABLE; the watch then waits for the daemon's health to report
 * SERVING (capped backoff) and issues Wait again, which answers at once with the stored exit if the process exited
 * during the outage (spec §1.4). The sink takes one value, so the exit is delivered exactly once however many Waits
 * answer. If the process is gone after the outage (NOT_FOUND: containerd cleaned up a dead shim, whose exit event
 * nobody could receive) the exit is reported as {@link ExitStatus.Kind#UNKNOWN}: a gap is never silence.
 */
final class ExitWatch {
    private static final Logger log = LoggerFactory.getLogger(ExitWatch.class);

    private final Daemon daemon;
    private final String namespace;
    private final String containerId;
    private final String execId;
    private final Clock clock;
    private final Sinks.One<ExitStatus> exit = Sinks.one();
    private final AtomicReference<@Nullable ExitStatus> known = new AtomicReference<>();
    private final AtomicReference<@Nullable Disposable> wait = new AtomicReference<>();

    ExitWatch(Daemon daemon, String namespace, String containerId, String execId, Clock clock) {
        this.daemon = daemon;
        this.namespace = namespace;
        this.containerId = containerId;
        this.execId = execId;
        this.clock = clock;
    }

    /** Sends the Wait (owned boundary: the subscription is kept and disposed by {@link #stop()}). */
    void start() {
        WaitRequest request = WaitRequest.newBuilder().setContainerId(containerId).setExecId(execId).build();
        Disposable d = daemon.calls.unary(namespace, TasksGrpc.getWaitMethod(), request)
                .retryWhen(daemon.reconnect("[" + who() + "] wait")
                        .doBeforeRetryAsync(s -> daemon.resumed()))
                .subscribe(r -> emit(Timestamps.exit(r.getExitStatus(), r.getExitedAt(), clock.instant())),
                        this::failed);
        if (!wait.compareAndSet(null, d)) {
            d.dispose();
        }
    }

    private void failed(Throwable e) {
        if (Errors.is(e, ErrorKind.NOT_FOUND)) {
            // Deleted by someone else, or cleaned up by the daemon while we were away: the exit is lost to us.
            log.warn("[{}] is gone without a reported exit: exit unknown", who());
            emit(ExitStatus.unknown(clock.instant()));
            return;
        }
        log.warn("[{}] wait failed: exit unknown", who(), e);
        emit(ExitStatus.unknown(clock.instant()));
    }

    /** Publishes the exit; a second one (a Wait answered twice across a reconnect) is dropped. */
    void emit(ExitStatus status) {
        known.compareAndSet(null, status);
        Sinks.EmitResult r = exit.tryEmitValue(status);
        if (r.isFailure() && r != Sinks.EmitResult.FAIL_TERMINATED) {
            log.warn("[{}] exit not published: {}", who(), r);
        }
    }

    /** Completes the exit empty (deleted without having run) and stops waiting. */
    void completeEmpty() {
        stop();
        exit.tryEmitEmpty();
    }

    /** Stops waiting; the exit stays as it is. */
    void stop() {
        Disposable d = wait.getAndSet(reactor.core.Disposables.disposed());
        if (d != null) {
            d.dispose();
        }
    }

    Mono<ExitStatus> asMono() {
        return exit.asMono();
    }

    /** The exit if it is known already. */
    @Nullable ExitStatus now() {
        return known.get();
    }

    private String who() {
        return namespace + "/" + containerId + (execId.isEmpty() ? "" : " exec " + execId);
    }
}
