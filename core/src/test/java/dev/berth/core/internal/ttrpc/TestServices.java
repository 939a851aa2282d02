package dev.berth.core.internal.ttrpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import com.google.protobuf.StringValue;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;

/** A service for transport tests: requests are StringValues, the method says what the handler does with them. */
final class TestServices {
    static final String SERVICE = "berth.test.v1.Test";

    /** Requests the Hold method has received, by value; each waits until the test completes its sink. */
    final Map<String, MonoSink<StringValue>> held = new ConcurrentHashMap<>();
    /** Every request value Hold received, in arrival order. */
    final Sinks.Many<String> arrivals = Sinks.many().replay().all();

    Map<String, TtrpcService> services() {
        Map<String, Function<ByteString, Mono<? extends Message>>> methods = Map.of(
                "Echo", TtrpcService.unary(StringValue.parser(), Mono::just),
                "Hold", TtrpcService.unary(StringValue.parser(), this::hold),
                "Fail", TtrpcService.unary(StringValue.parser(),
                        r -> Mono.error(Errors.of(ErrorKind.valueOf(r.getValue()), "%s: not found", r.getValue()))),
                "Throw", payload -> {
                    throw new IllegalStateException("handler threw");
                },
                "Nothing", payload -> Mono.empty(),
                "Metadata", payload -> Mono.deferContextual(ctx ->
                        Mono.just(StringValue.of(new java.util.TreeMap<>(TtrpcServer.metadata(ctx)).toString()))),
                "Sleep", payload -> {
                    try {
                        Thread.sleep(1);
                        return Mono.just(StringValue.of("slept"));
                    } catch (BlockingOperationError e) {
                        return Mono.just(StringValue.of("blocked"));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return Mono.error(e);
                    }
                },
                "Big", payload -> Mono.just(com.google.protobuf.BytesValue.of(
                        ByteString.copyFrom(new byte[Frames.MAX_PAYLOAD + 1]))));
        return Map.of(SERVICE, new TtrpcService(methods), "berth.test.v1.Other",
                TtrpcService.of("Ping", payload -> Mono.just(Empty.getDefaultInstance())));
    }

    // Mono.create runs this once the server has subscribed, so a reply completed on arrival goes out at once.
    private Mono<StringValue> hold(StringValue request) {
        return Mono.create(reply -> {
            held.put(request.getValue(), reply);
            arrivals.emitNext(request.getValue(),
                    Sinks.EmitFailureHandler.busyLooping(java.time.Duration.ofSeconds(1)));
        });
    }
}
