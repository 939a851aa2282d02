package dev.berth.core;

import com.google.protobuf.Any;
import java.time.Instant;
import java.util.Objects;

/**
 * One event as containerd carries it: when it happened, in which namespace, on which topic, and the payload as a
 * protobuf {@link Any} whose type URL is containerd's bare name (e.g. {@code containerd.events.TaskExit}, with no
 * {@code type.googleapis.com/} prefix). Events from the embedded runtime, from shims and from a containerd daemon
 * all arrive as this type, so a consumer cannot tell them apart.
 *
 * @param timestamp when the event was published (or forwarded with)
 * @param namespace the namespace it belongs to
 * @param topic the topic, e.g. {@code /tasks/exit}
 * @param event the payload
 */
public record Envelope(Instant timestamp, String namespace, String topic, Any event) {
    public Envelope {
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(event, "event");
    }
}
