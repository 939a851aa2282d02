package dev.berth.events;

import dev.berth.core.Envelope;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.SubscribeOptions;
import dev.berth.events.proto.containerd.events.TaskStart;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Sinks;

/**
 * Publish-to-receive latency of one event at a time: emit, then spin until the last of the subscribers has it. The
 * events thread is idle between events, so each sample includes waking it (the common case for lifecycle events,
 * which are sparse). {@code sinkHop} is the stock-operator equivalent
 * ({@code directBestEffort -> onBackpressureBuffer -> publishOn(events)}) on the same scheduler.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(1)
@State(Scope.Benchmark)
public class EventExchangeLatencyBenchmark {
    @Param({"1", "16"})
    int subscribers;

    RuntimeSchedulers schedulers;
    DefaultEventExchange exchange;
    Sinks.Many<Envelope> hop;
    Disposable.Composite subscriptions;
    Envelope envelope;
    EventExchangeBenchmark.Receivers exchangeReceivers;
    EventExchangeBenchmark.Receivers hopReceivers;

    @Setup(Level.Trial)
    public void setUp() {
        schedulers = RuntimeSchedulers.create("bench");
        exchange = new DefaultEventExchange(schedulers, Clock.systemUTC());
        hop = Sinks.many().multicast().directBestEffort();
        subscriptions = Disposables.composite();
        envelope = new Envelope(Instant.now(), "default", EventExchangeBenchmark.TOPIC,
                EventTypes.pack(TaskStart.newBuilder().setContainerId("web").setPid(42).build()));
        EventFilter filter = EventExchangeBenchmark.topicFilter(EventExchangeBenchmark.TOPIC);
        exchangeReceivers = new EventExchangeBenchmark.Receivers(subscribers);
        hopReceivers = new EventExchangeBenchmark.Receivers(subscribers);
        for (int i = 0; i < subscribers; i++) {
            subscriptions.add(exchangeReceivers.receive(i, exchange.subscribe(SubscribeOptions.DEFAULTS, filter)));
            subscriptions.add(hopReceivers.receive(i, hop.asFlux()
                    .filter(e -> e.topic().equals(EventExchangeBenchmark.TOPIC))
                    .onBackpressureBuffer(SubscribeOptions.DEFAULT_BUFFER_SIZE)
                    .publishOn(schedulers.events())));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        subscriptions.dispose();
        exchange.close().block();
        schedulers.dispose();
    }

    @Benchmark
    public long exchange() {
        exchange.emit(envelope);
        return exchangeReceivers.awaitAll(1);
    }

    @Benchmark
    public long sinkHop() {
        Sinks.EmitResult result = hop.tryEmitNext(envelope);
        if (result.isFailure()) {
            throw new IllegalStateException("emit failed: " + result);
        }
        return hopReceivers.awaitAll(1);
    }
}
