package dev.berth.samples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import dev.berth.core.Envelope;
import dev.berth.events.EventPayload;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * How {@code berth events} prints an event: one line of text ({@code timestamp namespace topic field=value...}) or
 * one JSON object per line. Fields are the payload's set fields by proto name; a payload Berth cannot decode is
 * shown by its type URL and size.
 */
final class EventFormat {
    private static final ObjectMapper JSON = new ObjectMapper();

    private EventFormat() {
    }

    static String text(Envelope envelope) {
        StringBuilder line = new StringBuilder()
                .append(envelope.timestamp()).append(' ')
                .append(envelope.namespace()).append(' ')
                .append(envelope.topic());
        Message message = new EventPayload(envelope).message();
        if (message == null) {
            line.append(" type=").append(envelope.event().getTypeUrl())
                    .append(" bytes=").append(envelope.event().getValue().size());
            return line.toString();
        }
        appendFields(line, "", message);
        return line.toString();
    }

    private static void appendFields(StringBuilder line, String prefix, Message message) {
        for (Map.Entry<FieldDescriptor, Object> field : message.getAllFields().entrySet()) {
            String name = prefix + field.getKey().getName();
            Object value = field.getValue();
            if (value instanceof Timestamp t) {
                line.append(' ').append(name).append('=').append(instant(t));
            } else if (value instanceof Message nested) {
                appendFields(line, name + ".", nested);
            } else {
                line.append(' ').append(name).append('=').append(quoteIfNeeded(String.valueOf(value)));
            }
        }
    }

    static String json(Envelope envelope) {
        ObjectNode root = JSON.createObjectNode()
                .put("timestamp", envelope.timestamp().toString())
                .put("namespace", envelope.namespace())
                .put("topic", envelope.topic())
                .put("type", envelope.event().getTypeUrl());
        Message message = new EventPayload(envelope).message();
        if (message == null) {
            root.put("payload", Base64.getEncoder().encodeToString(envelope.event().getValue().toByteArray()));
        } else {
            root.set("event", object(message));
        }
        return root.toString();
    }

    private static ObjectNode object(Message message) {
        ObjectNode node = JSON.createObjectNode();
        for (Map.Entry<FieldDescriptor, Object> field : message.getAllFields().entrySet()) {
            String name = field.getKey().getName();
            Object value = field.getValue();
            if (value instanceof Timestamp t) {
                node.put(name, instant(t).toString());
            } else if (value instanceof Message nested) {
                node.set(name, object(nested));
            } else if (value instanceof List<?> list) {
                var array = node.putArray(name);
                list.forEach(v -> array.add(v instanceof Message m ? object(m) : JSON.valueToTree(String.valueOf(v))));
            } else if (value instanceof Integer || value instanceof Long || value instanceof Boolean) {
                node.set(name, JSON.valueToTree(value));
            } else {
                node.put(name, String.valueOf(value));
            }
        }
        return node;
    }

    private static Instant instant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }

    private static String quoteIfNeeded(String value) {
        return value.isEmpty() || value.chars().anyMatch(c -> c <= ' ' || c == '"')
                ? JSON.valueToTree(value).toString() : value;
    }
}
