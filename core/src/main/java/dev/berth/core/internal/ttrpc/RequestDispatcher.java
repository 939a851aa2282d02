package dev.berth.core.internal.ttrpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.internal.rpc.GrpcErrors;
import dev.berth.core.internal.rpc.RpcStatus;
import dev.berth.core.internal.ttrpc.proto.KeyValue;
import dev.berth.core.internal.ttrpc.proto.Request;
import dev.berth.core.internal.ttrpc.proto.Response;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Turns one request frame into its reply frame, the way the ttrpc 1.1 server does: the envelope is decoded first, then
 * the stream id is checked, then the service and the method are looked up (spec §1.8 for the codes and texts). A
 * handler failure becomes a status reply; nothing here fails the connection.
 */
final class RequestDispatcher {
    private static final Logger log = LoggerFactory.getLogger(RequestDispatcher.class);

    private final Map<String, TtrpcService> services;
    private final Scheduler timer;

    RequestDispatcher(Map<String, TtrpcService> services, Scheduler timer) {
        this.services = services;
        this.timer = timer;
    }

    /** @return a cold Mono of the encoded reply frame; it never fails. */
    Mono<ByteBuf> serve(Frame frame) {
        int streamId = frame.streamId();
        Request request;
        try {
            request = Request.parseFrom(frame.payload());
        } catch (InvalidProtocolBufferException e) {
            return reply(streamId, status(ErrorKind.INVALID_ARGUMENT.grpcCode(),
                    "unmarshal request error: " + e.getMessage()));
        }
        if ((streamId & 1) == 0) {
            return reply(streamId, status(ErrorKind.INVALID_ARGUMENT.grpcCode(),
                    "StreamID must be odd for client initiated streams"));
        }
        TtrpcService service = services.get(request.getService());
        if (service == null) {
            return reply(streamId, status(ErrorKind.NOT_IMPLEMENTED.grpcCode(), "service " + request.getService()));
        }
        Function<ByteString, Mono<? extends Message>> handler = service.methods().get(request.getMethod());
        if (handler == null) {
            return reply(streamId, status(ErrorKind.NOT_IMPLEMENTED.grpcCode(), "method " + request.getMethod()));
        }
        String what = request.getService() + "/" + request.getMethod();
        Mono<? extends Message> result = Mono.defer(() -> handler.apply(request.getPayload()));
        if (request.getTimeoutNano() > 0) {
            Duration deadline = Duration.ofNanos(request.getTimeoutNano());
            result = result.timeout(deadline,
                    Mono.error(() -> Errors.deadlineExceeded("%s: deadline of %s passed", what, deadline)), timer);
        }
        Map<String, String> metadata = metadataOf(request);
        return result
                .map(RequestDispatcher::ok)
                .defaultIfEmpty(Frames.ok(ByteString.EMPTY))
                // Not swallowed: a handler failure is the reply the client waits for.
                .onErrorResume(e -> {
                    log.debug("ttrpc {} on stream {} failed", what, Integer.toUnsignedString(streamId), e);
                    return Mono.just(Frames.failed(GrpcErrors.statusOf(e)));
                })
                .contextWrite(ctx -> ctx.put(TtrpcServer.METADATA_KEY, metadata))
                .map(response -> encode(streamId, response));
    }

    /** The reply for an oversized request frame, worded as the 1.1 shim words it (spec §1.5). */
    static ByteBuf tooLarge(FrameError error) {
        return encode(error.streamId(), Frames.failed(GrpcErrors.statusOf(error.error())));
    }

    private static Response ok(Message message) {
        int size = message.getSerializedSize();
        if (size > Frames.MAX_PAYLOAD) {
            // The 1.1 server would send it anyway; a Go client then fails the call, so fail it here, typed.
            return Frames.failed(GrpcErrors.statusOf(Frames.tooLarge(size)));
        }
        return Frames.ok(message.toByteString());
    }

    private static Mono<ByteBuf> reply(int streamId, RpcStatus status) {
        return Mono.fromSupplier(() -> encode(streamId, Frames.failed(status)));
    }

    private static RpcStatus status(int code, String message) {
        return new RpcStatus(code, message);
    }

    // Unpooled heap buffers: a reply dropped on the way (connection closed) is garbage-collected, never leaked.
    private static ByteBuf encode(int streamId, Response response) {
        return Unpooled.wrappedBuffer(Frames.frame(streamId, Frames.TYPE_RESPONSE, response));
    }

    // A key may repeat; the first value wins, as containerd reads it (ttrpc.GetMetadataValue).
    private static Map<String, String> metadataOf(Request request) {
        if (request.getMetadataCount() == 0) {
            return Map.of();
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (KeyValue kv : request.getMetadataList()) {
            metadata.putIfAbsent(kv.getKey(), kv.getValue());
        }
        return Collections.unmodifiableMap(metadata);
    }
}
