package dev.berth.core;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Factories and predicates for {@link BerthException}. Messages are {@link String#format} patterns, so the ids
 * involved are always in the text.
 */
public final class Errors {
    private Errors() {
    }

    /** A failure of {@code kind} with a formatted message. */
    public static BerthException of(ErrorKind kind, String format, Object... args) {
        return new BerthException(kind, format(format, args), null);
    }

    /** A failure of {@code kind} with a formatted message and a cause. */
    public static BerthException of(ErrorKind kind, @Nullable Throwable cause, String format, Object... args) {
        return new BerthException(kind, format(format, args), cause);
    }

    public static BerthException notFound(String format, Object... args) {
        return of(ErrorKind.NOT_FOUND, format, args);
    }

    public static BerthException alreadyExists(String format, Object... args) {
        return of(ErrorKind.ALREADY_EXISTS, format, args);
    }

    public static BerthException invalidArgument(String format, Object... args) {
        return of(ErrorKind.INVALID_ARGUMENT, format, args);
    }

    public static BerthException failedPrecondition(String format, Object... args) {
        return of(ErrorKind.FAILED_PRECONDITION, format, args);
    }

    public static BerthException unavailable(String format, Object... args) {
        return of(ErrorKind.UNAVAILABLE, format, args);
    }

    public static BerthException deadlineExceeded(String format, Object... args) {
        return of(ErrorKind.DEADLINE_EXCEEDED, format, args);
    }

    public static BerthException internal(String format, Object... args) {
        return of(ErrorKind.INTERNAL, format, args);
    }

    public static BerthException notImplemented(String format, Object... args) {
        return of(ErrorKind.NOT_IMPLEMENTED, format, args);
    }

    /**
     * Adds context to a failure and keeps its kind: a {@link BerthException} anywhere in the chain gives the kind,
     * anything else becomes {@link ErrorKind#UNKNOWN}.
     */
    public static BerthException wrap(Throwable cause, String format, Object... args) {
        String message = format(format, args) + ": " + messageOf(cause);
        return new BerthException(kindOf(cause), message, cause);
    }

    /** The first {@link ErrorKind} found walking {@code t} and its causes, or {@link ErrorKind#UNKNOWN}. */
    public static ErrorKind kindOf(@Nullable Throwable t) {
        return find(t).map(BerthException::kind).orElse(ErrorKind.UNKNOWN);
    }

    /** Whether {@code t} or one of its causes is a {@link BerthException} whose first kind is {@code kind}. */
    public static boolean is(@Nullable Throwable t, ErrorKind kind) {
        return find(t).map(e -> e.kind() == kind).orElse(false);
    }

    /** Whether retrying the failed operation may succeed (only {@link ErrorKind#UNAVAILABLE}). */
    public static boolean isRetryable(@Nullable Throwable t) {
        return is(t, ErrorKind.UNAVAILABLE);
    }

    private static Optional<BerthException> find(@Nullable Throwable t) {
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        for (Throwable c = t; c != null && seen.put(c, Boolean.TRUE) == null; c = c.getCause()) {
            if (c instanceof BerthException b) {
                return Optional.of(b);
            }
        }
        return Optional.empty();
    }

    private static String messageOf(Throwable t) {
        if (t instanceof BerthException b) {
            return b.getMessage();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    private static String format(String format, Object... args) {
        return args.length == 0 ? format : String.format(format, args);
    }
}
