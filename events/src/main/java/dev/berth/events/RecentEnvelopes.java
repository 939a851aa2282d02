package dev.berth.events;

import dev.berth.core.Envelope;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The last few envelopes an {@link EventsSocket} forwarded, to recognise a shim's re-send of one it already delivered
 * (the reply was lost with the connection, spec §5.1). Two envelopes are the same when their timestamp (to the
 * nanosecond), namespace, topic, type URL and payload bytes are all equal; a shim stamps each event with its own
 * publish time, so distinct events do not collide. Only small payloads are remembered, so that a peer cannot pin
 * much memory here. The owner is the socket; any connection's event loop may call in, hence the monitor, which is
 * never held while emitting.
 */
final class RecentEnvelopes {
    /** Larger payloads are not remembered (shim events are well under 1 KiB). */
    static final int MAX_REMEMBERED_PAYLOAD = 64 * 1024;

    private final Map<Envelope, Boolean> recent;

    RecentEnvelopes(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
        }
        // Insertion order, so the eldest is the one forwarded longest ago.
        this.recent = new LinkedHashMap<>(capacity * 2) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Envelope, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    /** Remembers {@code envelope}; false if it was among the last ones remembered, i.e. a duplicate. */
    synchronized boolean add(Envelope envelope) {
        if (envelope.event().getValue().size() > MAX_REMEMBERED_PAYLOAD) {
            return true;
        }
        return recent.putIfAbsent(envelope, Boolean.TRUE) == null;
    }

    /** Forgets {@code envelope}: it was not delivered after all, so a retry must go through. */
    synchronized void remove(Envelope envelope) {
        recent.remove(envelope);
    }
}
