package dev.berth.events;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import dev.berth.core.Envelope;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * An {@code event.<path>} field: a field of the decoded payload, read the way containerd's generated
 * {@code Field(fieldpath)} methods read it.
 *
 * <ul>
 *   <li>A string field is present when it is not empty; a bool is always present, as "true" or "false". Both
 *       ignore any rest of the path (Go's generated code does not look at it).
 *   <li>A singular message field is present when set, and the rest of the path is read inside it; a
 *       {@code google.protobuf.Any} field is decoded first (only registered containerd event types look inside).
 *   <li>A {@code map<string, string>} field (containerd's {@code labels}) takes the rest of the path, re-joined
 *       with ".", as the key: {@code event.labels.a.b} reads key {@code a.b}. A key that is set is present even
 *       if its value is "".
 *   <li>Numbers, enums, bytes, timestamps and repeated fields are never present, nor is a payload whose type is
 *       not a registered containerd event ({@link EventPayload#message()} is null).
 * </ul>
 *
 * <p>The path is resolved against a message type's descriptor once, on the first event of that type, and the
 * resolved reader is cached per descriptor, so later events only walk field descriptors.
 */
final class PayloadField implements EventField {
    private static final String TIMESTAMP = Timestamp.getDescriptor().getFullName();
    private static final String ANY = Any.getDescriptor().getFullName();

    private final List<String> path;
    private final ConcurrentHashMap<Descriptor, Reader> readers = new ConcurrentHashMap<>();
    private final Function<Descriptor, Reader> resolver = descriptor -> resolve(descriptor, 0);

    PayloadField(List<String> path) {
        this.path = List.copyOf(path);
    }

    @Override
    public @Nullable String read(Envelope envelope, EventPayload payload) {
        Message message = payload.message();
        return message == null ? null : read(message);
    }

    /** The field in {@code message}, or null when absent. */
    @Nullable String read(Message message) {
        Descriptor type = message.getDescriptorForType();
        Reader reader = readers.get(type);
        if (reader == null) {
            reader = readers.computeIfAbsent(type, resolver);
        }
        return reader.read(message);
    }

    private Reader resolve(Descriptor type, int index) {
        if (index >= path.size()) {
            return Absent.INSTANCE; // a path that ends on a message names nothing
        }
        FieldDescriptor field = type.findFieldByName(path.get(index));
        if (field == null) {
            return Absent.INSTANCE;
        }
        if (field.isMapField()) {
            Descriptor entry = field.getMessageType();
            FieldDescriptor key = entry.findFieldByNumber(1);
            FieldDescriptor value = entry.findFieldByNumber(2);
            if (key.getJavaType() != FieldDescriptor.JavaType.STRING
                    || value.getJavaType() != FieldDescriptor.JavaType.STRING) {
                return Absent.INSTANCE;
            }
            return new MapEntry(field, key, value, String.join(".", path.subList(index + 1, path.size())));
        }
        if (field.isRepeated()) {
            return Absent.INSTANCE;
        }
        return switch (field.getJavaType()) {
            case STRING -> new StringField(field);
            case BOOLEAN -> new BoolField(field);
            case MESSAGE -> {
                String name = field.getMessageType().getFullName();
                if (name.equals(TIMESTAMP)) {
                    yield Absent.INSTANCE;
                }
                if (name.equals(ANY)) {
                    yield new AnyField(field, new PayloadField(path.subList(index + 1, path.size())));
                }
                yield new NestedField(field, resolve(field.getMessageType(), index + 1));
            }
            default -> Absent.INSTANCE;
        };
    }

    @Override
    public String toString() {
        return "event." + String.join(".", path);
    }

    /** Reads one resolved path in messages of one type. */
    private sealed interface Reader {
        @Nullable String read(Message message);
    }

    private enum Absent implements Reader {
        INSTANCE;

        @Override
        public @Nullable String read(Message message) {
            return null;
        }
    }

    private record StringField(FieldDescriptor field) implements Reader {
        @Override
        public @Nullable String read(Message message) {
            String value = (String) message.getField(field);
            return value.isEmpty() ? null : value;
        }
    }

    private record BoolField(FieldDescriptor field) implements Reader {
        @Override
        public String read(Message message) {
            return (Boolean) message.getField(field) ? "true" : "false";
        }
    }

    private record NestedField(FieldDescriptor field, Reader next) implements Reader {
        @Override
        public @Nullable String read(Message message) {
            return message.hasField(field) ? next.read((Message) message.getField(field)) : null;
        }
    }

    private record AnyField(FieldDescriptor field, PayloadField rest) implements Reader {
        @Override
        public @Nullable String read(Message message) {
            if (!message.hasField(field)) {
                return null;
            }
            Message decoded = EventRegistry.decode((Any) message.getField(field));
            return decoded == null ? null : rest.read(decoded);
        }
    }

    private record MapEntry(FieldDescriptor field, FieldDescriptor key, FieldDescriptor value, String wanted)
            implements Reader {
        @Override
        public @Nullable String read(Message message) {
            // label maps are small: a scan beats building a Map view of the reflection API's entry list
            int count = message.getRepeatedFieldCount(field);
            for (int i = 0; i < count; i++) {
                Message entry = (Message) message.getRepeatedField(field, i);
                if (wanted.equals(entry.getField(key))) {
                    return (String) entry.getField(value);
                }
            }
            return null;
        }
    }
}
