package dev.berth.events;

import com.google.protobuf.Message;
import dev.berth.core.Envelope;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The payload of one envelope, decoded at most once, on first use, and shared by every filter that tests the same
 * event. Not thread-safe: one publishing thread uses it for one event.
 */
public final class EventPayload {
    private final Envelope envelope;
    private boolean decoded;
    private @Nullable Message message;

    /** A lazily decoded view of {@code envelope}'s payload. */
    public EventPayload(Envelope envelope) {
        this.envelope = Objects.requireNonNull(envelope, "envelope");
    }

    /**
     * The decoded payload, or {@code null} when its type URL is not a containerd event type Berth knows or its
     * bytes do not parse (then no {@code event.*} field is present, as in containerd).
     */
    public @Nullable Message message() {
        if (!decoded) {
            decoded = true;
            message = EventRegistry.decode(envelope.event());
        }
        return message;
    }
}
