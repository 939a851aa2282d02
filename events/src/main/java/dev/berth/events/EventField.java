package dev.berth.events;

import dev.berth.core.Envelope;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** What a selector's field path names in an event, resolved once when the filter is parsed. */
sealed interface EventField permits EnvelopeField, PayloadField {
    /**
     * The field's value in this event, or null when it is absent. A present value is never "" except for a map
     * entry whose value is empty (containerd's rule: an empty string field is absent, a map key is present).
     */
    @Nullable String read(Envelope envelope, EventPayload payload);

    /**
     * The field a path names, as containerd's {@code Envelope.Field} resolves it: {@code namespace} and
     * {@code topic} ignore anything after them, {@code event} looks inside the payload, and any other name
     * (including {@code timestamp}) is never present.
     */
    static EventField of(List<String> path) {
        return switch (path.get(0)) {
            case "namespace" -> EnvelopeField.NAMESPACE;
            case "topic" -> EnvelopeField.TOPIC;
            case "event" -> new PayloadField(path.subList(1, path.size()));
            default -> EnvelopeField.ABSENT;
        };
    }
}
