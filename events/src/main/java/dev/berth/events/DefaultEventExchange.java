package dev.berth.events;

import com.google.protobuf.Message;
import dev.berth.core.Envelope;
import dev.berth.core.Errors;
import dev.berth.core.Identifiers;
import dev.berth.core.Namespaces;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.SubscribeOptions;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** Placeholder exchange (serialized multicast); replaced by the bounded per-subscriber implementation. */
final class DefaultEventExchange implements EventExchange {
    private final RuntimeSchedulers schedulers;
    private final Clock clock;
    private final Sinks.Many<Envelope> sink = Sinks.many().multicast().directBestEffort();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong dropped = new AtomicLong();

    DefaultEventExchange(RuntimeSchedulers schedulers, Clock clock) {
        this.schedulers = schedulers;
        this.clock = clock;
    }

    @Override
    public Flux<Envelope> subscribe(String... filters) {
        return subscribe(SubscribeOptions.DEFAULTS, filters);
    }

    @Override
    public Flux<Envelope> subscribe(SubscribeOptions options, String... filters) {
        return Flux.defer(() -> {
            EventFilter filter = EventFilter.parse(filters);
            return sink.asFlux().filter(filter::test)
                    .onBackpressureBuffer(options.bufferSize())
                    .publishOn(schedulers.events());
        });
    }

    @Override
    public Mono<Void> publish(String topic, Message event) {
        return Mono.deferContextual(ctx -> {
            emit(Namespaces.of(ctx), topic, event);
            return Mono.empty();
        });
    }

    @Override
    public Mono<Void> forward(Envelope envelope) {
        return Mono.fromRunnable(() -> emit(envelope));
    }

    @Override
    public void emit(String namespace, String topic, Message event) {
        emit(new Envelope(clock.instant(), namespace, topic, EventTypes.pack(event)));
    }

    @Override
    public synchronized void emit(Envelope envelope) {
        Identifiers.validate("namespace", envelope.namespace());
        Topics.validate(envelope.topic());
        if (closed.get()) {
            throw Errors.unavailable("the event exchange is closed");
        }
        sink.tryEmitNext(envelope);
    }

    @Override
    public long droppedEvents() {
        return dropped.get();
    }

    @Override
    public Mono<Void> close() {
        return Mono.fromRunnable(() -> {
            if (closed.compareAndSet(false, true)) {
                sink.tryEmitComplete();
            }
        });
    }
}
