package dev.berth.events;

import dev.berth.core.Envelope;
import org.jspecify.annotations.Nullable;

/** The envelope's own fields. Reading them allocates nothing and never decodes the payload. */
enum EnvelopeField implements EventField {
    NAMESPACE {
        @Override
        public @Nullable String read(Envelope envelope, EventPayload payload) {
            return nonEmpty(envelope.namespace());
        }
    },
    TOPIC {
        @Override
        public @Nullable String read(Envelope envelope, EventPayload payload) {
            return nonEmpty(envelope.topic());
        }
    },
    /** A field events do not have, such as {@code timestamp}: never present. */
    ABSENT {
        @Override
        public @Nullable String read(Envelope envelope, EventPayload payload) {
            return null;
        }
    };

    private static @Nullable String nonEmpty(String value) {
        return value.isEmpty() ? null : value;
    }
}
