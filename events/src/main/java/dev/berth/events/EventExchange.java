package dev.berth.events;

import com.google.protobuf.Message;
import dev.berth.core.AsyncCloseable;
import dev.berth.core.Envelope;
import dev.berth.core.EventSubscriber;
import dev.berth.core.RuntimeSchedulers;
import java.time.Clock;
import reactor.core.publisher.Mono;

/**
 * The one place every lifecycle event goes through: runtimes and task managers publish, shims' and daemons' events
 * are forwarded, and any number of consumers subscribe with filters. Publishing never blocks and never waits for a
 * subscriber: each subscriber has its own bounded buffer and overflow policy, and receives on the events
 * scheduler. With no subscriber an event is dropped, as in containerd.
 */
public interface EventExchange extends EventSubscriber, AsyncCloseable {
    /** An exchange stamping events with {@code clock} and delivering on {@code schedulers.events()}. */
    static EventExchange create(RuntimeSchedulers schedulers, Clock clock) {
        return new DefaultEventExchange(schedulers, clock);
    }

    /**
     * Publishes {@code event} on {@code topic} in the subscriber's namespace (from the Reactor Context), stamped
     * with the exchange's clock.
     *
     * @return a cold Mono completing once the event is handed to every matching subscriber's buffer. Fails with
     *     INVALID_ARGUMENT for an invalid topic or namespace, UNAVAILABLE after close.
     */
    Mono<Void> publish(String topic, Message event);

    /**
     * Forwards an envelope as it is: its namespace and timestamp are kept (events from shims and daemons).
     *
     * @return a cold Mono completing once handed over. Fails with INVALID_ARGUMENT for an invalid topic or
     *     namespace or an empty payload type, UNAVAILABLE after close.
     */
    Mono<Void> forward(Envelope envelope);

    /**
     * Publishes at once, on the calling thread, without blocking: the form runtimes use on their event loops. Safe
     * to call from any number of threads at once; each thread's events reach each subscriber in the order it
     * emitted them. When this returns, the event is in every matching subscriber's buffer (a subscriber whose
     * buffer was full has dropped its oldest event or failed, as its overflow policy says).
     *
     * @throws dev.berth.core.BerthException INVALID_ARGUMENT for an invalid namespace or topic, UNAVAILABLE after
     *     close
     */
    void emit(String namespace, String topic, Message event);

    /**
     * Forwards at once, on the calling thread, without blocking, keeping the envelope's namespace and timestamp.
     *
     * @throws dev.berth.core.BerthException INVALID_ARGUMENT for an invalid namespace or topic or a payload with no
     *     type URL (containerd cannot handle an unset event), UNAVAILABLE after close
     */
    void emit(Envelope envelope);

    /** How many events subscribers with {@code DROP_OLDEST} have lost so far, in total. */
    long droppedEvents();

    /**
     * Completes every subscription, each after delivering the events it had buffered, and refuses further
     * publishing with UNAVAILABLE. Every emit that returned normally before is delivered first. Subscriptions made
     * after close complete at once.
     *
     * @return a cold Mono completing once every subscription has been told to complete (delivery of what they
     *     buffered goes on at the subscribers' pace); closing again completes at once
     */
    @Override
    Mono<Void> close();
}
