package dev.berth.core;

import reactor.core.publisher.Flux;

/**
 * Subscribes to events. Filters use containerd's filter language: the entries are OR-ed, the selectors inside one
 * entry ({@code a==b,c~=d}) are AND-ed, fields are {@code namespace}, {@code topic} and {@code event.<field>} (string
 * fields of the payload by proto name). No filter, or an empty one, matches every event of every namespace.
 */
public interface EventSubscriber {
    /**
     * Subscribes with the default options: a buffer of {@value SubscribeOptions#DEFAULT_BUFFER_SIZE} events and
     * {@link SubscribeOptions.Overflow#FAIL}.
     *
     * @see #subscribe(SubscribeOptions, String...)
     */
    Flux<Envelope> subscribe(String... filters);

    /**
     * Subscribes to the events that match any of {@code filters}, from the moment of subscription on (events are
     * not replayed).
     *
     * @return a hot Flux of the matching events, in publication order, emitted on a non-blocking events thread. A
     *     filter that does not parse, or holds an invalid regular expression, fails the subscription at once with
     *     INVALID_ARGUMENT, naming the position and the reason. A subscriber that falls {@code bufferSize} events
     *     behind fails with RESOURCE_EXHAUSTED ({@link SubscribeOptions.Overflow#FAIL}) or loses the oldest
     *     buffered events, counted ({@link SubscribeOptions.Overflow#DROP_OLDEST}); it never slows the publishers
     *     or the other subscribers. Cancelling ends the subscription and frees its buffer.
     */
    Flux<Envelope> subscribe(SubscribeOptions options, String... filters);
}
