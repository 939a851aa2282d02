package dev.berth.events;

import dev.berth.core.Envelope;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.SubscribeOptions;
import dev.berth.events.proto.containerd.events.TaskStart;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * Publish-to-receive throughput of the event exchange, fanned out to 1 or 16 subscribers, with a filter that matches
 * every event and one that matches none, beside a bare multicast sink with the same subscribers in the same run.
 *
 * <p>One operation is one published event. Each invocation publishes {@value #BATCH} events from the benchmark
 * thread and then waits (spinning) until every subscriber has received all of them, so the score is end-to-end
 * throughput, not just the cost of handing events over: with 16 subscribers, the score is events per second that
 * each of the 16 received. {@value #BATCH} is below every buffer, so nothing overflows.
 *
 * <ul>
 *   <li>{@code exchange}: {@link DefaultEventExchange}, delivery on the events scheduler (1 thread).</li>
 *   <li>{@code sinkDirect}: {@code Sinks.many().multicast().directBestEffort()}, delivery on the publisher's own
 *       thread: no buffer, no hop, no concurrent publishers allowed. The floor of what a hot multicast costs.</li>
 *   <li>{@code sinkHop}: the same sink with the exchange's guarantees built from stock operators, per subscriber
 *       {@code filter -> onBackpressureBuffer(1024) -> publishOn(events)}; still one publisher thread only.</li>
 * </ul>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(1)
@State(Scope.Benchmark)
public class EventExchangeBenchmark {
    static final int BATCH = 512;
    static final String TOPIC = "/tasks/start";

    @Param({"1", "16"})
    int subscribers;

    /** {@code match}: a filter evaluated on every event that accepts it; {@code miss}: one that rejects it. */
    @Param({"match", "miss"})
    String filter;

    RuntimeSchedulers schedulers;
    DefaultEventExchange exchange;
    Sinks.Many<Envelope> direct;
    Sinks.Many<Envelope> hop;
    Disposable.Composite subscriptions;
    Envelope envelope;
    Receivers exchangeReceivers;
    Receivers directReceivers;
    Receivers hopReceivers;
    boolean matches;

    @Setup(Level.Trial)
    public void setUp() {
        schedulers = RuntimeSchedulers.create("bench");
        exchange = new DefaultEventExchange(schedulers, Clock.systemUTC());
        direct = Sinks.many().multicast().directBestEffort();
        hop = Sinks.many().multicast().directBestEffort();
        subscriptions = Disposables.composite();
        envelope = new Envelope(Instant.now(), "default", TOPIC,
                EventTypes.pack(TaskStart.newBuilder().setContainerId("web").setPid(42).build()));
        matches = filter.equals("match");
        String wanted = matches ? TOPIC : "/tasks/exit";
        EventFilter eventFilter = topicFilter(wanted);
        Predicate<Envelope> predicate = e -> e.topic().equals(wanted);

        exchangeReceivers = new Receivers(subscribers);
        directReceivers = new Receivers(subscribers);
        hopReceivers = new Receivers(subscribers);
        for (int i = 0; i < subscribers; i++) {
            subscriptions.add(exchangeReceivers.receive(i,
                    exchange.subscribe(SubscribeOptions.DEFAULTS, eventFilter)));
            subscriptions.add(directReceivers.receive(i, direct.asFlux().filter(predicate)));
            subscriptions.add(hopReceivers.receive(i, hop.asFlux().filter(predicate)
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
    @OperationsPerInvocation(BATCH)
    public long exchange() {
        for (int i = 0; i < BATCH; i++) {
            exchange.emit(envelope);
        }
        return exchangeReceivers.awaitAll(matches ? BATCH : 0);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long sinkDirect() {
        for (int i = 0; i < BATCH; i++) {
            emit(direct);
        }
        return directReceivers.awaitAll(matches ? BATCH : 0);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long sinkHop() {
        for (int i = 0; i < BATCH; i++) {
            emit(hop);
        }
        return hopReceivers.awaitAll(matches ? BATCH : 0);
    }

    private void emit(Sinks.Many<Envelope> sink) {
        Sinks.EmitResult result = sink.tryEmitNext(envelope);
        if (result.isFailure()) {
            throw new IllegalStateException("emit failed: " + result);
        }
    }

    static EventFilter topicFilter(String topic) {
        return new EventFilter() {
            @Override
            public boolean test(Envelope envelope, EventPayload payload) {
                return envelope.topic().equals(topic);
            }

            @Override
            public boolean matchesEverything() {
                return false;
            }
        };
    }

    /** Per-subscriber receive counters that the benchmark thread waits on. */
    static final class Receivers {
        private final AtomicLong[] received;
        private volatile Throwable failure;
        private long expected;

        Receivers(int n) {
            received = new AtomicLong[n];
            for (int i = 0; i < n; i++) {
                received[i] = new AtomicLong();
            }
        }

        Disposable receive(int i, Flux<Envelope> events) {
            AtomicLong counter = received[i];
            // Each subscriber is signalled serially: a single writer, so a plain increment is enough.
            return events.subscribe(e -> counter.lazySet(counter.get() + 1), e -> failure = e);
        }

        /**
         * Waits until every subscriber has received {@code more} more events; returns the total expected. It spins
         * briefly, then yields: on 2 vCPUs the woken events thread is often queued on the waiter's own CPU, and a
         * pure spin would keep it off that CPU until the scheduler preempts the waiter (milliseconds).
         */
        long awaitAll(int more) {
            expected += more;
            for (AtomicLong counter : received) {
                int spins = 0;
                while (counter.get() < expected) {
                    if (failure != null) {
                        throw new IllegalStateException("a subscriber failed", failure);
                    }
                    if (++spins < 64) {
                        Thread.onSpinWait();
                    } else {
                        Thread.yield();
                    }
                }
            }
            return expected;
        }
    }
}
