package dev.berth.core.internal.os;

import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;

/** Maps errno values to {@link ErrorKind}s: the one place that does. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int ENOEXEC = 8;
    public static final int ECHILD = 10;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EEXIST = 17;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int EPIPE = 32;

    private Errno() {
    }

    /** The kind an errno value stands for. */
    public static ErrorKind kindOf(int errno) {
        return switch (errno) {
            case ENOENT, ESRCH, ECHILD, ENOTDIR -> ErrorKind.NOT_FOUND;
            case EEXIST -> ErrorKind.ALREADY_EXISTS;
            case EPERM, EACCES, ENOEXEC, EISDIR -> ErrorKind.PERMISSION_DENIED;
            case EINVAL -> ErrorKind.INVALID_ARGUMENT;
            case EAGAIN -> ErrorKind.UNAVAILABLE;
            case ENOMEM, ENFILE, EMFILE -> ErrorKind.RESOURCE_EXHAUSTED;
            default -> ErrorKind.UNKNOWN;
        };
    }

    /** A failure for {@code errno}, its message the formatted context plus the system's text. */
    public static BerthException toException(int errno, String describe, String format, Object... args) {
        String context = args.length == 0 ? format : String.format(format, args);
        return Errors.of(kindOf(errno), "%s: %s (errno %d)", context, describe, errno);
    }
}
