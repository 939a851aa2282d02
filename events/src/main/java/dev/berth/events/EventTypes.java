package dev.berth.events;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Packs protobuf messages into {@link Any} and back using containerd's type URLs.
 *
 * <p>containerd names a protobuf payload by its bare full message name, e.g. {@code containerd.events.TaskExit},
 * without the {@code type.googleapis.com/} prefix that {@link Any#pack(Message)} adds. containerd does not resolve a
 * prefixed URL (a shim fails to find the type, and event filters cannot look inside the payload), and protobuf-java's
 * {@link Any#unpack(Class)} rejects a bare one. So Berth never uses those two methods for containerd payloads: it
 * writes with {@link #pack(Message)} and reads with {@link #unpack(Any, Class)}.
 *
 * <p>All methods are plain synchronous functions with no I/O; they are safe to call on any thread.
 */
public final class EventTypes {
    /** The prefix protobuf-java's own {@code Any.pack} puts before the message name. */
    private static final String GOOGLE_PREFIX = "type.googleapis.com/";

    /** Default instances of generated message classes, found once per class by reflection. */
    private static final ClassValue<Message> DEFAULT_INSTANCES = new ClassValue<>() {
        @Override
        protected Message computeValue(Class<?> type) {
            return defaultInstance(type);
        }
    };

    private EventTypes() {
    }

    /**
     * Returns containerd's type URL for a message: its full proto name, with no prefix.
     *
     * @param message any protobuf message
     * @return the full name of the message's type, e.g. {@code containerd.events.TaskExit}
     */
    public static String typeUrl(Message message) {
        Objects.requireNonNull(message, "message");
        return message.getDescriptorForType().getFullName();
    }

    /**
     * Packs a message into an {@link Any} whose type URL is {@link #typeUrl(Message) containerd's bare name} and
     * whose value is the message's serialized bytes.
     *
     * @param message the payload, e.g. a {@code TaskExit}
     * @return an {@code Any} that containerd and its shims can resolve
     */
    public static Any pack(Message message) {
        Objects.requireNonNull(message, "message");
        return Any.newBuilder()
                .setTypeUrl(typeUrl(message))
                .setValue(message.toByteString())
                .build();
    }

    /**
     * Unpacks an {@link Any} after checking that it holds a message of the given type.
     *
     * <p>Both the bare URL containerd writes ({@code containerd.events.TaskExit}) and the prefixed form
     * protobuf-java writes ({@code type.googleapis.com/containerd.events.TaskExit}) are accepted; any other URL is
     * a mismatch.
     *
     * @param any the packed payload
     * @param type a generated message class, e.g. {@code TaskExit.class}
     * @param <T> the message type
     * @return the decoded message
     * @throws BerthException with {@link ErrorKind#INVALID_ARGUMENT} if the type URL names another
     *     type, if the value is not a valid encoding of {@code type} (the parse failure is the cause), or if
     *     {@code type} is not a generated message class
     */
    public static <T extends Message> T unpack(Any any, Class<T> type) {
        Objects.requireNonNull(any, "any");
        Objects.requireNonNull(type, "type");
        Message prototype = DEFAULT_INSTANCES.get(type);
        String expected = typeUrl(prototype);
        String actual = any.getTypeUrl();
        if (!actual.equals(expected) && !actual.equals(GOOGLE_PREFIX + expected)) {
            throw Errors.invalidArgument("type url %s does not match expected %s", actual, expected);
        }
        try {
            return type.cast(prototype.getParserForType().parseFrom(any.getValue()));
        } catch (InvalidProtocolBufferException e) {
            throw Errors.of(ErrorKind.INVALID_ARGUMENT, e, "malformed %s payload", expected);
        }
    }

    // Generated classes all have a public static getDefaultInstance(); DynamicMessage and hand-written
    // implementations do not, and cannot be unpacked by class.
    private static Message defaultInstance(Class<?> type) {
        try {
            Method getter = type.getMethod("getDefaultInstance");
            if (Modifier.isStatic(getter.getModifiers())) {
                Object instance = getter.invoke(null);
                if (type.isInstance(instance)) {
                    return (Message) instance;
                }
            }
        } catch (ReflectiveOperationException e) {
            throw notGenerated(type, e);
        }
        throw notGenerated(type, null);
    }

    private static BerthException notGenerated(Class<?> type, @Nullable Throwable cause) {
        return Errors.of(ErrorKind.INVALID_ARGUMENT, cause, "%s is not a generated protobuf message class",
                type.getName());
    }
}
