package dev.berth.events;

import com.google.protobuf.Message;
import dev.berth.core.Envelope;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.Identifiers;
import dev.berth.core.Namespaces;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.SubscribeOptions;
import java.time.Clock;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.publisher.Sinks;

/**
 * The in-memory {@link EventExchange}: a copy-on-write array of subscriptions, each with its own bounded buffer and
 * drain loop (see {@link ExchangeSubscription}); one {@link Dispatcher} task on the events scheduler runs the drain
 * loops in turns. One task for all subscriptions means one wake-up of the events thread per burst of events,
 * whatever the fan-out; it also means one exchange delivers on one events thread at a time, which is what
 * {@link RuntimeSchedulers#create} gives it anyway (a single events thread).
 *
 * <p>Why not STYLE §3's {@code Sinks.many().multicast().directBestEffort()} with
 * {@code onBackpressureBuffer().publishOn(events)} per subscriber: a sink must be fed by one thread at a time
 * ({@code tryEmitNext} fails with {@code FAIL_NON_SERIALIZED} under concurrent publishers, so the placeholder took a
 * lock, and a busy-looping {@code emitNext} would spin), and {@code publishOn} costs a task submission per
 * subscriber per burst (the benchmarks in {@code benchmarks/EVENTS-RESULTS.md} compare both). The sink would test every subscriber's filter on
 * the publisher's thread anyway. Here {@link #emit(Envelope)} reads the array once, tests each
 * filter on the calling thread (sharing one lazily decoded {@link EventPayload} across filters, so events a
 * subscriber does not want cost it no buffer space), and offers the event to each matching subscriber's lock-free
 * queue. Nothing is locked, nothing waits on a subscriber, and with no subscriber the event is dropped.
 * Each publisher's events reach each subscriber in the order that publisher emitted them.
 *
 * <p><b>Closing</b> races with publishers, so {@link #state} counts the emits in flight next to a CLOSED bit:
 * an emit that sees CLOSED fails with UNAVAILABLE, and subscriptions are completed by whoever brings the count to
 * zero after CLOSED is set (the closer, or the last publisher in flight). So an emit that returned normally is
 * delivered before its subscriptions complete, whatever the interleaving.
 */
final class DefaultEventExchange implements EventExchange {
    private static final Logger log = LoggerFactory.getLogger(DefaultEventExchange.class);

    private static final ExchangeSubscription[] EMPTY = new ExchangeSubscription[0];
    private static final ExchangeSubscription[] TERMINATED = new ExchangeSubscription[0];
    private static final long CLOSED = 1L << 62;

    private static final AtomicReferenceFieldUpdater<DefaultEventExchange, ExchangeSubscription[]> SUBSCRIBERS =
            AtomicReferenceFieldUpdater.newUpdater(DefaultEventExchange.class, ExchangeSubscription[].class,
                    "subscribers");
    private static final AtomicLongFieldUpdater<DefaultEventExchange> STATE =
            AtomicLongFieldUpdater.newUpdater(DefaultEventExchange.class, "state");

    private final Dispatcher dispatcher;
    private final Clock clock;
    private final LongAdder dropped = new LongAdder();
    private final Sinks.Empty<Void> closed = Sinks.empty();
    private final NameCache namespaces = new NameCache();
    private final NameCache topics = new NameCache();

    private volatile ExchangeSubscription[] subscribers = EMPTY;
    // CLOSED | the number of emits in flight
    private volatile long state;

    DefaultEventExchange(RuntimeSchedulers schedulers, Clock clock) {
        this.dispatcher = new Dispatcher(Objects.requireNonNull(schedulers, "schedulers").events());
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public Flux<Envelope> subscribe(String... filters) {
        return subscribe(SubscribeOptions.DEFAULTS, filters);
    }

    @Override
    public Flux<Envelope> subscribe(SubscribeOptions options, String... filters) {
        Objects.requireNonNull(options, "options");
        String[] copy = Objects.requireNonNull(filters, "filters").clone();
        return new ExchangeFlux(this, options, () -> EventFilter.parse(copy));
    }

    /** Subscribes with an already built filter (tests, benchmarks). */
    Flux<Envelope> subscribe(SubscribeOptions options, EventFilter filter) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(filter, "filter");
        return new ExchangeFlux(this, options, () -> filter);
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
        Objects.requireNonNull(event, "event");
        emit(new Envelope(clock.instant(), namespace, topic, EventTypes.pack(event)));
    }

    @Override
    public void emit(Envelope envelope) {
        Objects.requireNonNull(envelope, "envelope");
        validate(envelope);
        long s = STATE.incrementAndGet(this);
        try {
            if ((s & CLOSED) != 0) {
                throw Errors.unavailable("the event exchange is closed");
            }
            dispatch(envelope);
        } finally {
            if (STATE.decrementAndGet(this) == CLOSED) {
                finishClose();
            }
        }
    }

    private void dispatch(Envelope envelope) {
        EventPayload payload = null;
        for (ExchangeSubscription sub : subscribers) {
            EventFilter filter = sub.filter;
            if (!filter.matchesEverything()) {
                if (payload == null) {
                    payload = new EventPayload(envelope);
                }
                boolean matches;
                try {
                    matches = filter.test(envelope, payload);
                } catch (RuntimeException e) {
                    // A broken filter ends its own subscription, not the publisher's call or the others.
                    sub.fail(Errors.of(ErrorKind.INTERNAL, e, "event filter %s failed", filter));
                    continue;
                }
                if (!matches) {
                    continue;
                }
            }
            sub.offer(envelope);
        }
    }

    private void validate(Envelope envelope) {
        if (!namespaces.contains(envelope.namespace())) {
            namespaces.add(Identifiers.validate("namespace", envelope.namespace()));
        }
        if (!topics.contains(envelope.topic())) {
            topics.add(Topics.validate(envelope.topic()));
        }
        if (envelope.event().getTypeUrl().isEmpty()) {
            // containerd crashes on an event whose payload type is unset; refuse it at the door.
            throw Errors.invalidArgument("event on %s in namespace %s has no payload type", envelope.topic(),
                    envelope.namespace());
        }
    }

    @Override
    public long droppedEvents() {
        return dropped.sum();
    }

    /**
     * Completes every subscription (each after delivering what it had buffered) and refuses further emits with
     * UNAVAILABLE. Subscriptions made after close complete at once.
     *
     * @return a cold Mono completing when every subscription has been told to complete: at once on the calling
     *     thread, or, if an emit was in flight, on that publisher's thread when it has handed its event over.
     *     Delivery of buffered events continues on the events scheduler. Closing again completes at once.
     */
    @Override
    public Mono<Void> close() {
        return Mono.defer(() -> {
            long prev = STATE.getAndUpdate(this, s -> s | CLOSED);
            if (prev == 0) {
                finishClose();
            }
            return closed.asMono();
        });
    }

    private void finishClose() {
        ExchangeSubscription[] subs = SUBSCRIBERS.getAndSet(this, TERMINATED);
        if (subs == TERMINATED) {
            return;
        }
        for (ExchangeSubscription sub : subs) {
            sub.complete();
        }
        Sinks.EmitResult result = closed.tryEmitEmpty();
        if (result.isFailure()) {
            log.warn("event exchange close signal not emitted: {}", result);
        }
    }

    /** The number of live subscriptions (for tests). */
    int subscriberCount() {
        return subscribers.length;
    }

    /** The live subscriptions (for tests). */
    ExchangeSubscription[] subscriptions() {
        return subscribers.clone();
    }

    void countDrop() {
        dropped.increment();
    }

    /** Adds {@code sub}, or returns false once the exchange has closed. */
    boolean add(ExchangeSubscription sub) {
        for (;;) {
            ExchangeSubscription[] a = subscribers;
            if (a == TERMINATED) {
                return false;
            }
            ExchangeSubscription[] b = Arrays.copyOf(a, a.length + 1);
            b[a.length] = sub;
            if (SUBSCRIBERS.compareAndSet(this, a, b)) {
                return true;
            }
        }
    }

    void remove(ExchangeSubscription sub) {
        for (;;) {
            ExchangeSubscription[] a = subscribers;
            int i = indexOf(a, sub);
            if (i < 0) {
                return;
            }
            ExchangeSubscription[] b;
            if (a.length == 1) {
                b = EMPTY;
            } else {
                b = new ExchangeSubscription[a.length - 1];
                System.arraycopy(a, 0, b, 0, i);
                System.arraycopy(a, i + 1, b, i, a.length - i - 1);
            }
            if (SUBSCRIBERS.compareAndSet(this, a, b)) {
                return;
            }
        }
    }

    private static int indexOf(ExchangeSubscription[] a, ExchangeSubscription sub) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == sub) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The subscriptions of one {@code subscribe} call: each subscriber parses the filter (failing at once with
     * INVALID_ARGUMENT), receives its {@link ExchangeSubscription}, and is registered after {@code onSubscribe}
     * returns, so no signal can overtake {@code onSubscribe}.
     */
    private static final class ExchangeFlux extends Flux<Envelope> {
        private final DefaultEventExchange exchange;
        private final SubscribeOptions options;
        private final Supplier<EventFilter> filter;

        ExchangeFlux(DefaultEventExchange exchange, SubscribeOptions options, Supplier<EventFilter> filter) {
            this.exchange = exchange;
            this.options = options;
            this.filter = filter;
        }

        @Override
        public void subscribe(CoreSubscriber<? super Envelope> actual) {
            EventFilter parsed;
            try {
                parsed = Objects.requireNonNull(filter.get(), "filter");
            } catch (RuntimeException e) {
                Operators.error(actual, e);
                return;
            }
            ExchangeSubscription sub = new ExchangeSubscription(actual, exchange, parsed, options,
                    exchange.dispatcher);
            actual.onSubscribe(sub);
            if (!exchange.add(sub)) {
                sub.complete();
            }
            // A cancel (or a refusal by the events scheduler) inside onSubscribe ran before the add: take the
            // subscription out again.
            if (sub.isCancelled()) {
                exchange.remove(sub);
            }
        }
    }

    /**
     * Names that passed validation recently, so that publishing on the same few topics and namespaces does not run
     * the identifier regular expression on every event. A fixed, direct-mapped table: bounded memory, lock-free, and
     * a racy slot write at worst costs one more validation (Strings are immutable, so a reader never sees a torn
     * one).
     */
    private static final class NameCache {
        private static final int SLOTS = 64;
        private final @Nullable String[] slots = new String[SLOTS];

        boolean contains(@Nullable String name) {
            if (name == null) {
                return false;
            }
            String cached = slots[name.hashCode() & (SLOTS - 1)];
            return cached != null && cached.equals(name);
        }

        void add(String name) {
            slots[name.hashCode() & (SLOTS - 1)] = name;
        }
    }
}
