package dev.berth.shims.internal.v2;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.berth.core.Errors;
import dev.berth.core.internal.ttrpc.TtrpcService;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/**
 * A fake {@code containerd.task.v2.Task} whose handlers each test sets; it counts the requests each method received.
 * A method without a handler fails with NOT_IMPLEMENTED.
 */
final class FakeShim {
    private final Map<String, Function<ByteString, Mono<? extends Message>>> handlers = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

    <T extends Message> FakeShim on(String method, Parser<T> parser, Function<T, Mono<? extends Message>> handler) {
        handlers.put(method, TtrpcService.unary(parser, handler));
        return this;
    }

    int calls(String method) {
        AtomicInteger count = calls.get(method);
        return count == null ? 0 : count.get();
    }

    Map<String, TtrpcService> services() {
        Map<String, Function<ByteString, Mono<? extends Message>>> methods = new ConcurrentHashMap<>();
        for (String method : new String[] {"State", "Create", "Start", "Delete", "Pids", "Pause", "Resume",
                "Checkpoint", "Kill", "Exec", "ResizePty", "CloseIO", "Update", "Wait", "Stats", "Connect",
                "Shutdown"}) {
            methods.put(method, payload -> {
                calls.computeIfAbsent(method, m -> new AtomicInteger()).incrementAndGet();
                Function<ByteString, Mono<? extends Message>> handler = handlers.get(method);
                if (handler == null) {
                    return Mono.error(Errors.notImplemented("fake shim: no handler for %s", method));
                }
                return handler.apply(payload);
            });
        }
        return Map.of(ShimTaskClient.SERVICE, new TtrpcService(methods));
    }
}
