package dev.berth.events;

import dev.berth.core.Envelope;
import java.util.List;

/** A parsed filter that does not match everything: entries OR-ed, the selectors of each entry AND-ed. */
final class DefaultEventFilter implements EventFilter {
    private final Selector[][] entries;
    private final List<String> source;

    DefaultEventFilter(Selector[][] entries, List<String> source) {
        this.entries = entries;
        this.source = List.copyOf(source);
    }

    @Override
    public boolean test(Envelope envelope, EventPayload payload) {
        for (Selector[] entry : entries) {
            if (all(entry, envelope, payload)) {
                return true;
            }
        }
        return false;
    }

    private static boolean all(Selector[] entry, Envelope envelope, EventPayload payload) {
        for (Selector selector : entry) {
            if (!selector.test(envelope, payload)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean matchesEverything() {
        return false;
    }

    @Override
    public String toString() {
        return "EventFilter" + source;
    }
}
