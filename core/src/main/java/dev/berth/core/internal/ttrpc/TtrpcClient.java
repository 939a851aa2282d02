package dev.berth.core.internal.ttrpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.berth.core.AsyncCloseable;
import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.internal.rpc.GrpcErrors;
import dev.berth.core.internal.ttrpc.proto.Request;
import dev.berth.core.internal.ttrpc.proto.Response;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.netty.Connection;
import reactor.netty.tcp.TcpClient;

/**
 * A ttrpc 1.1 client on one Unix-socket connection, e.g. to a containerd 1.6 shim's task service.
 *
 * <p>Calls are unary and cold: each subscription to {@link #call} sends a new request on the next odd stream id of
 * this connection (1, 3, 5, …) and waits for the reply with the same id; replies may arrive in any order. Any number of
 * calls may be in flight, from any thread. Every failure is a {@link BerthException}:
 * <ul>
 *   <li>a non-OK reply status is mapped through {@link GrpcErrors} (so the shim's NOT_FOUND stays NOT_FOUND);</li>
 *   <li>no reply within the call's timeout is DEADLINE_EXCEEDED, timed on the injected timer;</li>
 *   <li>a connection that is gone, for whatever reason, fails the pending and all later calls with UNAVAILABLE, the
 *       reason in the cause chain. A peer that breaks the framing (an oversized or unexpected frame) gets its
 *       connection closed the same way.</li>
 * </ul>
 * {@link #onClose()} completes once the connection is gone, which is how an owner notices a dead shim. Replies, and
 * so the callers' continuations, are delivered on the connection's Netty event loop.
 */
public final class TtrpcClient implements AsyncCloseable {
    private static final Logger log = LoggerFactory.getLogger(TtrpcClient.class);
    private static final long MAX_STREAM_ID = 0xFFFF_FFFFL;

    private final Connection connection;
    private final Path socket;
    private final Scheduler timer;
    private final AtomicLong nextStreamId = new AtomicLong(1);
    private final ConcurrentHashMap<Integer, Pending> pending = new ConcurrentHashMap<>();
    /** Set once, to the reason, when the connection goes; never reset. */
    private final AtomicReference<@Nullable BerthException> closed = new AtomicReference<>();
    private final Sinks.Empty<Void> terminated = Sinks.empty();
    private volatile @Nullable Disposable inbound;

    private record Pending(MonoSink<Response> sink, String what) {
    }

    private TtrpcClient(Connection connection, Path socket, Scheduler timer) {
        this.connection = connection;
        this.socket = socket;
        this.timer = timer;
    }

    /**
     * Connects to the ttrpc server listening on {@code socket}.
     *
     * @param socket the server's Unix socket (at most 107 bytes, the Linux limit)
     * @param timer the scheduler that times out calls ({@code RuntimeSchedulers.timer()})
     * @return a cold Mono emitting the connected client; each subscription opens a new connection. Fails with
     *     INVALID_ARGUMENT if the path is too long for a Unix socket, or UNAVAILABLE if nothing accepts the
     *     connection (no such socket, nobody listening). Cancelling abandons the attempt.
     */
    public static Mono<TtrpcClient> connect(Path socket, Scheduler timer) {
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(timer, "timer");
        return Mono.defer(() -> {
            SocketPaths.check(socket);
            return TcpClient.newConnection()
                    .remoteAddress(() -> new DomainSocketAddress(socket.toString()))
                    .doOnConnected(c -> c.addHandlerLast("ttrpc-frames", FrameDecoder.forClient()))
                    .connect()
                    .onErrorMap(e -> !(e instanceof BerthException),
                            e -> Errors.of(ErrorKind.UNAVAILABLE, e, "connect to ttrpc socket %s", socket))
                    .map(c -> new TtrpcClient(c, socket, timer).start());
        });
    }

    /**
     * Calls {@code service/method} with {@code request}.
     *
     * @param service the fully-qualified service, e.g. {@code containerd.task.v2.Task}
     * @param method the bare method name, e.g. {@code Create}
     * @param request the request message
     * @param responseParser decodes the reply payload
     * @param timeout how long to wait for the reply; it is also sent as the request's deadline ({@code timeout_nano})
     *     so the server gives up too. {@link Duration#ZERO} means no deadline (the shim's {@code Wait} needs that).
     * @param metadata request metadata, sent in iteration order
     * @return a cold Mono emitting the decoded reply. Each subscription sends a new request. Fails with the kind of a
     *     non-OK reply status (see {@link GrpcErrors}), DEADLINE_EXCEEDED when no reply came in time, UNAVAILABLE when
     *     the connection is or goes down before the reply, RESOURCE_EXHAUSTED when the request exceeds 4 MiB, or
     *     INTERNAL when the reply cannot be decoded. Cancelling only stops the wait: the request may already have
     *     been sent and its effect may still land (ttrpc has no cancel message); a late reply is dropped. Emits on
     *     the connection's event loop (a timeout on the timer).
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public <T extends Message> Mono<T> call(String service, String method, Message request, Parser<T> responseParser,
            Duration timeout, Map<String, String> metadata) {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(responseParser, "responseParser");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(metadata, "metadata");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeout);
        }
        Map<String, String> md = new LinkedHashMap<>(metadata);
        md.forEach((key, value) -> {
            Objects.requireNonNull(key, "metadata key");
            Objects.requireNonNull(value, "metadata value");
        });
        String what = "ttrpc " + service + "/" + method;
        Mono<Response> exchange = Mono.create(sink -> send(sink, what,
                Frames.request(service, method, request.toByteString(), saturatedNanos(timeout), md)));
        if (!timeout.isZero()) {
            exchange = exchange.timeout(timeout,
                    Mono.error(() -> Errors.deadlineExceeded("%s on %s: no reply within %s", what, socket, timeout)),
                    timer);
        }
        return exchange.map(response -> decode(response, responseParser, what));
    }

    /**
     * Closes the connection. Calls still waiting fail with UNAVAILABLE.
     *
     * @return a cold Mono completing when the connection is gone; subscribing again completes at once
     */
    @Override
    public Mono<Void> close() {
        return Mono.defer(() -> {
            shutdown(Errors.unavailable("ttrpc connection to %s closed by this client", socket));
            return onClose();
        });
    }

    /**
     * @return a Mono completing when the connection is gone (closed by either side, broken by the peer, or by
     *     {@link #close()}), after every pending call has failed. It never fails. Cancelling only stops the wait.
     */
    public Mono<Void> onClose() {
        return Mono.when(terminated.asMono(), connection.onDispose());
    }

    /** The socket this client is connected to. */
    public Path socket() {
        return socket;
    }

    /** Calls waiting for their reply; for tests. */
    int pendingCalls() {
        return pending.size();
    }

    @Override
    public String toString() {
        return "TtrpcClient[" + socket + (closed.get() == null ? "" : ", closed") + "]";
    }

    private TtrpcClient start() {
        // The owned boundary of this connection: the subscription is disposed in shutdown().
        inbound = connection.inbound().receiveObject().subscribe(this::onInbound,
                e -> shutdown(Errors.of(ErrorKind.UNAVAILABLE, e, "ttrpc connection to %s failed", socket)),
                () -> shutdown(Errors.unavailable("ttrpc connection to %s closed by the server", socket)));
        connection.onDispose(() -> shutdown(Errors.unavailable("ttrpc connection to %s closed", socket)));
        return this;
    }

    private void send(MonoSink<Response> sink, String what, Request request) {
        BerthException down = closed.get();
        if (down != null) {
            sink.error(unavailable(what, down));
            return;
        }
        if (request.getSerializedSize() > Frames.MAX_PAYLOAD) {
            sink.error(Errors.wrap(Frames.tooLarge(request.getSerializedSize()), "%s", what));
            return;
        }
        long id = nextStreamId.getAndAdd(2);
        if (id > MAX_STREAM_ID) {
            // Ids must not wrap onto calls that may still be pending: retire the connection; a new one starts at 1.
            shutdown(Errors.unavailable("ttrpc connection to %s used up its stream ids", socket));
            sink.error(unavailable(what, Objects.requireNonNull(closed.get())));
            return;
        }
        int streamId = (int) id;
        Pending entry = new Pending(sink, what);
        pending.put(streamId, entry);
        // Runs on reply, on timeout and on cancel alike: the stream is forgotten and a late reply is dropped.
        sink.onDispose(() -> pending.remove(streamId, entry));
        down = closed.get();
        if (down != null) {
            // shutdown() ran between the first check and put(): it may have missed this entry.
            if (pending.remove(streamId, entry)) {
                sink.error(unavailable(what, down));
            }
            return;
        }
        connection.channel()
                .writeAndFlush(Unpooled.wrappedBuffer(Frames.frame(streamId, Frames.TYPE_REQUEST, request)))
                .addListener(f -> {
                    if (!f.isSuccess() && pending.remove(streamId, entry)) {
                        sink.error(Errors.of(ErrorKind.UNAVAILABLE, f.cause(), "%s: write to %s failed", what, socket));
                    }
                });
    }

    // On the event loop.
    private void onInbound(Object message) {
        if (message instanceof Frame frame) {
            Pending entry = pending.remove(frame.streamId());
            if (entry == null) {
                log.debug("[{}] reply on stream {} that nobody waits for (timed out or cancelled), dropped", socket,
                        Integer.toUnsignedString(frame.streamId()));
                return;
            }
            Response response;
            try {
                response = Response.parseFrom(frame.payload());
            } catch (InvalidProtocolBufferException e) {
                entry.sink().error(Errors.of(ErrorKind.INTERNAL, e, "%s: malformed ttrpc response on stream %s",
                        entry.what(), Integer.toUnsignedString(frame.streamId())));
                return;
            }
            entry.sink().success(response);
        } else if (message instanceof FrameError error) {
            log.debug("[{}] protocol error, closing the connection: {}", socket, error.error().getMessage());
            shutdown(error.error());
        } else {
            ReferenceCountUtil.release(message);
        }
    }

    private void shutdown(BerthException reason) {
        if (!closed.compareAndSet(null, reason)) {
            return;
        }
        log.debug("[{}] ttrpc connection down: {}", socket, reason.getMessage());
        Disposable subscription = inbound;
        if (subscription != null) {
            subscription.dispose();
        }
        connection.dispose();
        for (Integer streamId : pending.keySet()) {
            Pending entry = pending.remove(streamId);
            if (entry != null) {
                entry.sink().error(unavailable(entry.what(), reason));
            }
        }
        Sinks.EmitResult result = terminated.tryEmitEmpty();
        if (result.isFailure()) {
            log.warn("[{}] could not signal the end of the connection: {}", socket, result);
        }
    }

    private BerthException unavailable(String what, BerthException reason) {
        return Errors.of(ErrorKind.UNAVAILABLE, reason, "%s on %s: %s", what, socket, reason.getMessage());
    }

    private static <T extends Message> T decode(Response response, Parser<T> parser, String what) {
        if (response.hasStatus() && response.getStatus().getCode() != GrpcErrors.OK) {
            throw GrpcErrors.toException(response.getStatus().getCode(), response.getStatus().getMessage(), what);
        }
        try {
            return parser.parseFrom(response.getPayload());
        } catch (InvalidProtocolBufferException e) {
            throw Errors.of(ErrorKind.INTERNAL, e, "%s: cannot decode the reply payload", what);
        }
    }

    private static long saturatedNanos(Duration timeout) {
        try {
            return timeout.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
