package dev.berth.core.internal.ttrpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/**
 * One ttrpc service a {@link TtrpcServer} serves: its methods by bare name ({@code "Forward"}), each a handler from the
 * request payload to the reply. A handler decodes the payload itself ({@link #unary} does that), runs on the
 * connection's event loop and must not block; it may complete on any thread. Its Mono may complete empty, which
 * replies with an empty payload (what {@code google.protobuf.Empty} encodes to). A failure is sent back as a status
 * through {@code GrpcErrors}. The request's metadata is in the handler's Reactor Context (see
 * {@link TtrpcServer#metadata}).
 *
 * @param methods the handlers by method name
 */
public record TtrpcService(Map<String, Function<ByteString, Mono<? extends Message>>> methods) {
    public TtrpcService {
        methods = Map.copyOf(Objects.requireNonNull(methods, "methods"));
    }

    /** A service with one method. */
    public static TtrpcService of(String method, Function<ByteString, Mono<? extends Message>> handler) {
        return new TtrpcService(Map.of(method, handler));
    }

    /**
     * A handler that decodes the payload with {@code parser} and passes the request on. A payload that does not
     * decode fails with INTERNAL, which the client sees as code 13, as from the containerd shim (spec §1.8).
     */
    public static <T extends Message> Function<ByteString, Mono<? extends Message>> unary(Parser<T> parser,
            Function<? super T, ? extends Mono<? extends Message>> handler) {
        Objects.requireNonNull(parser, "parser");
        Objects.requireNonNull(handler, "handler");
        return payload -> {
            T request;
            try {
                request = parser.parseFrom(payload);
            } catch (InvalidProtocolBufferException e) {
                return Mono.error(Errors.of(ErrorKind.INTERNAL, e, "ttrpc: error unmarshalling payload: %s",
                        e.getMessage()));
            }
            return handler.apply(request);
        };
    }
}
