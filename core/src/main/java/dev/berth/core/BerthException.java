package dev.berth.core;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The one unchecked failure type of Berth. Every failure carries a final {@link ErrorKind}; test it with
 * {@link Errors#is(Throwable, ErrorKind)}, which also looks through causes, never by message text.
 */
public class BerthException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorKind kind;

    /** A failure of the given kind. Prefer the factories in {@link Errors}. */
    public BerthException(ErrorKind kind, String message, @Nullable Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.kind = Objects.requireNonNull(kind, "kind");
    }

    /** The kind of this failure. */
    public ErrorKind kind() {
        return kind;
    }

    @Override
    public String toString() {
        return kind + ": " + getMessage();
    }
}
