package dev.berth.events;

import dev.berth.core.Envelope;

/**
 * A parsed subscription filter in containerd's language: entries OR-ed, the selectors of one entry AND-ed, on
 * {@code namespace}, {@code topic} and {@code event.<field>}. Parse once per subscription; testing an envelope
 * allocates nothing unless a selector looks inside the payload, and then the payload is decoded once per event
 * however many filters test it (see {@link EventPayload}). Instances are immutable and thread-safe.
 */
public interface EventFilter {
    /** Matches every event. */
    EventFilter ALL = new EventFilter() {
        @Override
        public boolean test(Envelope envelope, EventPayload payload) {
            return true;
        }

        @Override
        public boolean matchesEverything() {
            return true;
        }

        @Override
        public String toString() {
            return "EventFilter[all]";
        }
    };

    /**
     * Parses filter entries. No entry, or any entry that is empty, matches every event.
     *
     * @throws dev.berth.core.BerthException INVALID_ARGUMENT for a parse error, with the entry, the position and
     *     the reason in the message, or for an invalid regular expression after {@code ~=}
     */
    static EventFilter parse(String... filters) {
        return FilterParser.parse(filters);
    }

    /** Whether {@code envelope} matches, decoding its payload only if a selector needs it. */
    default boolean test(Envelope envelope) {
        return test(envelope, new EventPayload(envelope));
    }

    /** Whether {@code envelope} matches, using {@code payload} (the same envelope's lazily decoded payload). */
    boolean test(Envelope envelope, EventPayload payload);

    /** Whether this filter matches every event, so testing it can be skipped. */
    boolean matchesEverything();
}
