package dev.berth.core.internal.rpc;

import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The one mapping between gRPC/ttrpc status codes and {@link ErrorKind}, in both directions (STYLE.md §4).
 *
 * <p>The eleven kinds map one-to-one onto their gRPC codes. The six codes Berth has no kind for map to the closest
 * kind:
 * <ul>
 *   <li>{@code CANCELLED (1)} → {@link ErrorKind#UNKNOWN}: cancellation is an outcome in Berth, not an error kind,
 *       and a remote "cancelled" says nothing about whether retrying helps.</li>
 *   <li>{@code ABORTED (10)} → {@link ErrorKind#FAILED_PRECONDITION}: a conflict with the remote state; gRPC says to
 *       retry at a higher level, not the call itself, so it must not look retryable (UNAVAILABLE).</li>
 *   <li>{@code OUT_OF_RANGE (11)} → {@link ErrorKind#INVALID_ARGUMENT}: gRPC defines it as a range-specific invalid
 *       argument.</li>
 *   <li>{@code DATA_LOSS (15)} → {@link ErrorKind#INTERNAL}: unrecoverable corruption on the remote side.</li>
 *   <li>{@code UNAUTHENTICATED (16)} → {@link ErrorKind#PERMISSION_DENIED}: the caller may not do this.</li>
 *   <li>any other code (negative, above 16) → {@link ErrorKind#UNKNOWN}.</li>
 * </ul>
 * Going the other way every kind has its own code, and a failure that carries no kind is {@code UNKNOWN (2)}.
 */
public final class GrpcErrors {
    /** The OK status code. */
    public static final int OK = 0;
    public static final int CANCELLED = 1;
    public static final int ABORTED = 10;
    public static final int OUT_OF_RANGE = 11;
    public static final int DATA_LOSS = 15;
    public static final int UNAUTHENTICATED = 16;

    private static final String[] CODE_NAMES = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    };

    private GrpcErrors() {
    }

    /** The kind of a non-OK gRPC/ttrpc status code (see the class comment for the codes without a kind). */
    public static ErrorKind kindOf(int code) {
        return switch (code) {
            case ABORTED -> ErrorKind.FAILED_PRECONDITION;
            case OUT_OF_RANGE -> ErrorKind.INVALID_ARGUMENT;
            case DATA_LOSS -> ErrorKind.INTERNAL;
            case UNAUTHENTICATED -> ErrorKind.PERMISSION_DENIED;
            // CANCELLED, OK (not an error) and unassigned codes all land on UNKNOWN.
            default -> ErrorKind.ofGrpcCode(code);
        };
    }

    /** The gRPC code of a failure: its kind's code, {@code UNKNOWN (2)} when it carries no kind. */
    public static int codeOf(Throwable error) {
        return Errors.kindOf(Objects.requireNonNull(error, "error")).grpcCode();
    }

    /**
     * The status a server sends for a failure: the code of its kind and its message. A failure without a message is
     * described by its class name, so the status message is never empty.
     */
    public static RpcStatus statusOf(Throwable error) {
        Objects.requireNonNull(error, "error");
        String message = error.getMessage();
        if (message == null || message.isEmpty()) {
            message = error.getClass().getSimpleName();
        }
        return new RpcStatus(codeOf(error), message);
    }

    /**
     * The failure for a non-OK status received from a remote side. The kind comes from {@link #kindOf(int)}; the
     * message is {@code what: <remote message>}, keeping the remote text. containerd appends its error class to
     * classified errors ({@code "container not created: not found"}); that suffix is dropped, as containerd's
     * {@code errdefs.FromGRPC} does, but only when it names the same kind as the code, so no information is lost.
     * When the code has no kind of its own (e.g. ABORTED) its name is kept in the message.
     *
     * @param code the non-OK status code
     * @param message the remote status message, possibly empty
     * @param what what was being done, e.g. {@code "ttrpc containerd.task.v2.Task/Delete"}
     */
    public static BerthException toException(int code, String message, String what) {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(what, "what");
        ErrorKind kind = kindOf(code);
        String remote = stripClassSuffix(message, kind);
        StringBuilder text = new StringBuilder(what);
        if (!remote.isEmpty()) {
            text.append(what.isEmpty() ? "" : ": ").append(remote);
        }
        if (kind.grpcCode() != code || remote.isEmpty()) {
            text.append(text.length() == 0 ? "" : " ").append("(status ").append(codeName(code)).append(')');
        }
        return new BerthException(kind, text.toString(), null);
    }

    /** The name of a gRPC code ({@code "NOT_FOUND"}), or {@code "CODE_<n>"} for an unassigned one. */
    public static String codeName(int code) {
        return code >= 0 && code < CODE_NAMES.length ? CODE_NAMES[code] : "CODE_" + code;
    }

    private static String stripClassSuffix(String message, ErrorKind kind) {
        String suffix = classSuffix(kind);
        if (suffix != null && message.endsWith(suffix) && message.length() > suffix.length()) {
            return message.substring(0, message.length() - suffix.length());
        }
        return message;
    }

    // The texts of containerd's errdefs classes (errdefs/errors.go), appended as ": <class>" by the shim.
    private static @Nullable String classSuffix(ErrorKind kind) {
        return switch (kind) {
            case NOT_FOUND -> ": not found";
            case ALREADY_EXISTS -> ": already exists";
            case INVALID_ARGUMENT -> ": invalid argument";
            case FAILED_PRECONDITION -> ": failed precondition";
            case UNAVAILABLE -> ": unavailable";
            case NOT_IMPLEMENTED -> ": not implemented";
            default -> null;
        };
    }
}
