package dev.berth.tasks.remote;

import dev.berth.core.Errors;
import dev.berth.core.Namespaces;
import dev.berth.core.internal.rpc.GrpcErrors;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.net.ConnectException;
import java.time.Duration;
import dev.berth.core.ErrorKind;
import reactor.core.scheduler.Scheduler;
import reactor.util.retry.Retry;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Reactive wrappers of unary and server-streaming gRPC calls on the daemon channel. Each subscription is one call;
 * cancelling the subscriber cancels the call (the daemon sees CANCELLED). The namespace comes from the subscriber's
 * Reactor Context ({@link Namespaces}, {@code default} when unset) and is sent as {@code containerd-namespace} on
 * every call (spec §1.2). Failures are {@link dev.berth.core.BerthException}s mapped by
 * {@link GrpcErrors#fromContainerd}.
 */
final class Calls {
    static final Metadata.Key<String> NAMESPACE =
            Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER);

    /** How often, and how far apart, a call that never reached the daemon (connect refused) is tried again. */
    static final int NOT_SENT_RETRIES = 5;
    static final Duration NOT_SENT_DELAY = Duration.ofMillis(100);

    private final ManagedChannel channel;
    private final Scheduler timer;

    Calls(ManagedChannel channel, Scheduler timer) {
        this.channel = channel;
        this.timer = timer;
    }

    /** One unary call in the Context's namespace. */
    <Q, R> Mono<R> unary(MethodDescriptor<Q, R> method, Q request) {
        return Mono.deferContextual(ctx -> unary(Namespaces.of(ctx), method, request));
    }

    /** One unary call in {@code namespace}. */
    <Q, R> Mono<R> unary(String namespace, MethodDescriptor<Q, R> method, Q request) {
        return Mono.<R>create(sink -> {
            wake();
            ClientCall<Q, R> call = channel.newCall(method, CallOptions.DEFAULT);
            sink.onCancel(() -> call.cancel("cancelled by the subscriber", null));
            call.start(new UnaryListener<>(sink, method.getFullMethodName()), headers(namespace));
            call.sendMessage(request);
            call.halfClose();
            call.request(2);
        }).retryWhen(notSent());
    }

    /**
     * Tries again a call the channel failed before it reached the daemon: right after the daemon comes back, the
     * channel may still report the refused connect of a moment ago. Nothing was sent, so any call may be retried;
     * if the daemon is really down the call fails UNAVAILABLE after a few hundred milliseconds.
     */
    private Retry notSent() {
        return Retry.fixedDelay(NOT_SENT_RETRIES, NOT_SENT_DELAY).scheduler(timer)
                .filter(Calls::neverSent)
                .onRetryExhaustedThrow((spec, signal) -> signal.failure());
    }

    static boolean neverSent(Throwable e) {
        if (!Errors.is(e, ErrorKind.UNAVAILABLE)) {
            return false;
        }
        for (Throwable s : e.getSuppressed()) {
            for (Throwable c = s; c != null; c = c.getCause()) {
                // ECONNREFUSED, or ENOENT for a socket file not there (yet): the connect failed, nothing was sent.
                if (c instanceof ConnectException || c instanceof java.io.FileNotFoundException) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * One server-streaming call in {@code namespace}, messages requested from the daemon as the subscriber asks for
     * them (flow control, so a slow subscriber holds the data in the daemon, not here).
     */
    <Q, R> Flux<R> serverStream(String namespace, MethodDescriptor<Q, R> method, Q request) {
        return Flux.<R>create(sink -> {
            wake();
            ClientCall<Q, R> call = channel.newCall(method, CallOptions.DEFAULT);
            AtomicBoolean done = new AtomicBoolean();
            sink.onDispose(() -> {
                if (done.compareAndSet(false, true)) {
                    call.cancel("cancelled by the subscriber", null);
                }
            });
            call.start(new StreamListener<>(sink, done, method.getFullMethodName()), headers(namespace));
            sink.onRequest(n -> call.request((int) Math.min(n, Integer.MAX_VALUE)));
            call.sendMessage(request);
            call.halfClose();
        }).retryWhen(notSent());
    }

    /**
     * After the daemon went away, grpc waits out a growing connect backoff (up to two minutes) and fails every call
     * made meanwhile at once, even when the daemon is back. A new call instead makes the channel try now: if the
     * daemon is up the call goes through, if not it fails UNAVAILABLE as fast as before. The reconnect loops of
     * exits and events pace themselves (capped backoff), so this never spins.
     */
    private void wake() {
        if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
            channel.resetConnectBackoff();
        }
    }

    private static Metadata headers(@Nullable String namespace) {
        Metadata headers = new Metadata();
        if (namespace != null && !namespace.isEmpty()) {
            headers.put(NAMESPACE, namespace);
        }
        return headers;
    }

    /** The failure for a non-OK status of {@code method}. */
    static Throwable error(Status status, String method) {
        String what = method.substring(method.lastIndexOf('.') + 1);
        String description = status.getDescription() == null ? "" : status.getDescription();
        if (status.getCode() == Status.Code.CANCELLED && status.getCause() != null) {
            return Errors.wrap(status.getCause(), "%s", what);
        }
        Throwable error = GrpcErrors.fromContainerd(status.getCode().value(), description, what);
        if (status.getCause() != null) {
            error.addSuppressed(status.getCause()); // the transport's reason, for diagnosis
        }
        return error;
    }

    private static final class UnaryListener<R> extends ClientCall.Listener<R> {
        private final MonoSink<R> sink;
        private final String method;
        private @Nullable R response;

        UnaryListener(MonoSink<R> sink, String method) {
            this.sink = sink;
            this.method = method;
        }

        @Override
        public void onMessage(R message) {
            response = message;
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            if (!status.isOk()) {
                sink.error(error(status, method));
            } else if (response == null) {
                sink.error(Errors.internal("%s: no response message", method));
            } else {
                sink.success(response);
            }
        }
    }

    private static final class StreamListener<R> extends ClientCall.Listener<R> {
        private final FluxSink<R> sink;
        private final AtomicBoolean done;
        private final String method;

        StreamListener(FluxSink<R> sink, AtomicBoolean done, String method) {
            this.sink = sink;
            this.done = done;
            this.method = method;
        }

        @Override
        public void onMessage(R message) {
            sink.next(message);
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
            if (!done.compareAndSet(false, true)) {
                return; // we cancelled: the subscriber is gone, whatever the status says
            }
            if (status.isOk()) {
                sink.complete();
            } else {
                // We did not cancel: a CANCELLED status means the daemon reset the stream (see GrpcErrors).
                Throwable error = GrpcErrors.fromContainerdStream(status.getCode().value(),
                        status.getDescription() == null ? "" : status.getDescription(),
                        method.substring(method.lastIndexOf('.') + 1));
                if (status.getCause() != null) {
                    error.addSuppressed(status.getCause());
                }
                sink.error(error);
            }
        }
    }
}
