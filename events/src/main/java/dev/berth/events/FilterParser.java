package dev.berth.events;

import dev.berth.core.Errors;

/** Parses containerd's filter language. (Placeholder: only empty filters until the parser lands.) */
final class FilterParser {
    private FilterParser() {
    }

    static EventFilter parse(String... filters) {
        for (String f : filters) {
            if (f == null || f.isEmpty()) {
                return EventFilter.ALL;
            }
        }
        if (filters.length == 0) {
            return EventFilter.ALL;
        }
        throw Errors.notImplemented("filters are not parsed yet");
    }
}
