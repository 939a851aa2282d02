package dev.berth.events;

import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import dev.berth.core.AsyncCloseable;
import dev.berth.core.Envelope;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.internal.ttrpc.TtrpcServer;
import dev.berth.core.internal.ttrpc.TtrpcService;
import dev.berth.events.proto.containerd.services.events.ttrpc.v1.ForwardRequest;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The events endpoint of containerd 1.6 shims: a ttrpc server on a Unix socket serving
 * {@code containerd.services.events.ttrpc.v1.Events/Forward}, whose events go into an {@link EventExchange}.
 *
 * <p>Every shim started for this runtime gets {@link #socket()} as its {@code TTRPC_ADDRESS}. A shim connects lazily,
 * on its first event, keeps one connection, sends one {@code Forward} at a time and reconnects (stream ids from 1
 * again) when the connection closes. The socket must stay listening for the shims' whole life: without it their
 * events are lost and each shim shutdown stalls for about 10 s (spec §11, pitfall 21). So close it only after the
 * last shim is gone.
 *
 * <p>Each {@code Forward} is answered at once. Its envelope is checked as containerd's own {@code Forward} checks it:
 * a missing envelope, timestamp or namespace, an invalid namespace or topic, or a payload with no type URL gets an
 * INVALID_ARGUMENT reply (code 3), and an exchange that is closed an UNAVAILABLE one (code 14); the connection keeps
 * serving. A valid envelope is handed to {@link EventExchange#emit(Envelope)} unchanged (timestamp, namespace, topic
 * and payload as the shim sent them) on the connection's event loop, which never blocks: a slow subscriber fills or
 * overflows its own buffer, as its overflow policy says, and never delays the reply. The reply is an empty OK
 * {@code Response}. The namespace metadata the shim also sends ({@code containerd-namespace-ttrpc}) is not used: the
 * envelope's namespace is authoritative, as in containerd.
 *
 * <p>Duplicates: a shim re-sends an event whose call failed or whose connection closed before the reply, with the
 * identical envelope. An envelope equal to one of the last {@value #REMEMBERED} delivered (same timestamp to the
 * nanosecond, namespace, topic, type URL and payload bytes; payloads up to 64 KiB) is acknowledged and dropped. An
 * older duplicate, or one of a larger payload, is delivered again. Retried events can also arrive out of order (the
 * shim does not hold later events back), which this socket does not repair.
 */
public final class EventsSocket implements AsyncCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventsSocket.class);
    /** The ttrpc service a shim forwards to. */
    public static final String SERVICE = "containerd.services.events.ttrpc.v1.Events";
    /** Its one method. */
    public static final String METHOD = "Forward";
    /** How many recently delivered envelopes a re-send is recognised against (the shim queues up to 128 events). */
    static final int REMEMBERED = 128;
    private static final String NAMESPACE_METADATA = "containerd-namespace-ttrpc";
    // google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
    private static final long MIN_SECONDS = -62_135_596_800L;
    private static final long MAX_SECONDS = 253_402_300_799L;

    private final TtrpcServer server;

    private EventsSocket(TtrpcServer server) {
        this.server = server;
    }

    /**
     * Starts listening on {@code socket} and forwarding what arrives into {@code exchange}.
     *
     * @param socket the Unix socket path (at most 107 bytes); a stale socket file nobody listens on is replaced
     * @param exchange where events go; it stays owned by the caller, and closing this socket does not close it
     * @param schedulers {@code syscalls()} runs the socket-file checks
     * @return a cold Mono emitting the listening socket; each subscription binds anew. Fails with ALREADY_EXISTS if
     *     a server listens on the path or a non-socket file is there, INVALID_ARGUMENT if the path is too long,
     *     NOT_FOUND if its directory does not exist, PERMISSION_DENIED if it may not be created. Cancelling abandons
     *     the bind.
     */
    public static Mono<EventsSocket> bind(Path socket, EventExchange exchange, RuntimeSchedulers schedulers) {
        return bind(socket, exchange, schedulers, envelope -> true);
    }

    /**
     * {@link #bind(Path, EventExchange, RuntimeSchedulers)}, forwarding only the events {@code accept} takes; the
     * others are answered as received (so the shim does not retry them) and dropped. {@code accept} runs on the
     * socket's event loop: it must not block.
     */
    public static Mono<EventsSocket> bind(Path socket, EventExchange exchange, RuntimeSchedulers schedulers,
            Predicate<Envelope> accept) {
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(exchange, "exchange");
        Objects.requireNonNull(schedulers, "schedulers");
        Objects.requireNonNull(accept, "accept");
        return Mono.defer(() -> {
            Forwarder forwarder = new Forwarder(exchange, socket, accept);
            TtrpcService service = TtrpcService.of(METHOD,
                    TtrpcService.unary(ForwardRequest.parser(), forwarder::forward));
            return TtrpcServer.bind(socket, Map.of(SERVICE, service), schedulers).map(EventsSocket::new);
        });
    }

    /** The socket path, to pass to every shim as {@code TTRPC_ADDRESS}. */
    public Path socket() {
        return server.socket();
    }

    /**
     * Stops listening, closes the shims' connections (a {@code Forward} in flight goes unanswered, so the shim
     * retries it elsewhere or drops it) and removes the socket file. The exchange is left open.
     *
     * @return a Mono completing when that is done; the work is done once and later subscribers get the same outcome.
     *     Cancelling only stops the wait.
     */
    @Override
    public Mono<Void> close() {
        return server.close();
    }

    @Override
    public String toString() {
        return "EventsSocket[" + server.socket() + "]";
    }

    /** Converts a shim's envelope into Berth's, containerd's checks included; INVALID_ARGUMENT when it fails them. */
    static Envelope toEnvelope(ForwardRequest request) {
        if (!request.hasEnvelope()) {
            throw Errors.invalidArgument("forwarded request has no envelope");
        }
        var envelope = request.getEnvelope();
        if (!envelope.hasTimestamp()) {
            throw Errors.invalidArgument("timestamp must be set on forwarded event");
        }
        if (envelope.getNamespace().isEmpty()) {
            throw Errors.invalidArgument("event envelope has no namespace");
        }
        return new Envelope(instant(envelope.getTimestamp()), envelope.getNamespace(), envelope.getTopic(),
                envelope.getEvent());
    }

    private static Instant instant(Timestamp timestamp) {
        long seconds = timestamp.getSeconds();
        int nanos = timestamp.getNanos();
        // Out-of-range values would not survive the trip to Instant unchanged (or at all).
        if (seconds < MIN_SECONDS || seconds > MAX_SECONDS || nanos < 0 || nanos > 999_999_999) {
            throw Errors.invalidArgument("event timestamp {seconds: %d, nanos: %d} is out of range", seconds, nanos);
        }
        return Instant.ofEpochSecond(seconds, nanos);
    }

    /** The Forward handler of one bound socket, with its memory of recent envelopes. */
    private static final class Forwarder {
        private final EventExchange exchange;
        private final Path socket;
        private final RecentEnvelopes recent = new RecentEnvelopes(REMEMBERED);
        private final Predicate<Envelope> accept;

        Forwarder(EventExchange exchange, Path socket, Predicate<Envelope> accept) {
            this.exchange = exchange;
            this.socket = socket;
            this.accept = accept;
        }

        Mono<Empty> forward(ForwardRequest request) {
            return Mono.deferContextual(ctx -> {
                try {
                    deliver(toEnvelope(request));
                    return Mono.empty();
                } catch (RuntimeException e) {
                    // Replied to the shim with the error's code; the shim retries a few times, then drops it. A
                    // malformed envelope is a broken peer (WARN); a closed exchange is a shutdown under way.
                    String namespace = TtrpcServer.metadata(ctx).getOrDefault(NAMESPACE_METADATA, "?");
                    if (Errors.is(e, ErrorKind.INVALID_ARGUMENT)) {
                        log.warn("[{}] rejected an event forwarded from namespace {}: {}", socket, namespace,
                                e.toString());
                    } else {
                        log.debug("[{}] could not take an event from namespace {}", socket, namespace, e);
                    }
                    return Mono.error(e);
                }
            });
        }

        private void deliver(Envelope envelope) {
            if (!accept.test(envelope)) {
                log.trace("[{}] not forwarded: {} from {}", socket, envelope.topic(), envelope.namespace());
                return;
            }
            if (!recent.add(envelope)) {
                log.debug("[{}] dropped a re-sent event {} {} from {}", socket, envelope.topic(),
                        envelope.timestamp(), envelope.namespace());
                return;
            }
            try {
                exchange.emit(envelope);
            } catch (RuntimeException e) {
                recent.remove(envelope);
                throw e;
            }
            log.trace("[{}] forwarded {} {} from {}", socket, envelope.topic(), envelope.timestamp(),
                    envelope.namespace());
        }
    }
}
