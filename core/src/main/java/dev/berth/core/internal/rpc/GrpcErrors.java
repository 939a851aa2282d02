package dev.berth.core.internal.rpc;

import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import java.util.List;
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

    /**
     * The failure for a non-OK status received from a containerd daemon, whose codes are irregular (spec
     * containerd-grpc-api §6): the shim's errors cross a ttrpc hop, and some handlers skip the mapping, so a
     * classified error often arrives as {@code UNKNOWN} with its class only in the message. For {@code UNKNOWN}
     * this refines the kind, in order:
     * <ol>
     *   <li>a trailing class text ({@code ": not found"}, {@code ": invalid argument"}, {@code ": failed
     *       precondition"}, ...), as containerd's own {@code errdefs.FromGRPC} reads it: e.g. every Metrics error and
     *       a Subscribe filter that does not parse;</li>
     *   <li>the runc shim's state refusals, which containerd leaves unclassified ({@code cannot start a running
     *       process}, {@code cannot delete a running process}, {@code cannot pause a paused container}, {@code
     *       cannot resume a running process}, {@code container not running}, {@code process already finished}):
     *       FAILED_PRECONDITION, the kind Berth's local runtimes give for the same refusal;</li>
     *   <li>runc's report of a program it cannot exec ({@code exec: "/x": stat /x: no such file or directory},
     *       {@code executable file not found in $PATH}): NOT_FOUND, or PERMISSION_DENIED for {@code permission
     *       denied};</li>
     *   <li>{@code ttrpc: closed} (the shim went away mid-call): UNAVAILABLE.</li>
     * </ol>
     * Any other code goes through {@link #toException(int, String, String)} unchanged. The original code's name
     * stays in the message whenever the kind was refined.
     */
    public static BerthException fromContainerd(int code, String message, String what) {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(what, "what");
        if (code != ErrorKind.UNKNOWN.grpcCode()) {
            return toException(code, message, what);
        }
        ErrorKind refined = refineUnknown(message);
        if (refined == ErrorKind.UNKNOWN) {
            return toException(code, message, what);
        }
        String remote = stripClassSuffix(stripClassSuffix(message, ErrorKind.UNKNOWN), refined);
        return new BerthException(refined, what + (remote.isEmpty() ? "" : ": " + remote) + " (status UNKNOWN)",
                null);
    }

    /**
     * The failure that ends a server stream from a containerd daemon (Events/Subscribe) that this side did not
     * cancel. As {@link #fromContainerd}, except that {@code CANCELLED (1)} is {@link ErrorKind#UNAVAILABLE}: the
     * daemon (or the connection) reset the stream, which loses it as surely as the daemon dying does, so the stream
     * is to be made again, not given up.
     */
    public static BerthException fromContainerdStream(int code, String message, String what) {
        if (code == CANCELLED) {
            return new BerthException(ErrorKind.UNAVAILABLE,
                    what + ": stream reset by the daemon" + (message.isEmpty() ? "" : ": " + message)
                            + " (status CANCELLED)", null);
        }
        return fromContainerd(code, message, what);
    }

    private static ErrorKind refineUnknown(String message) {
        String m = message.endsWith(": unknown") ? message.substring(0, message.length() - ": unknown".length())
                : message;
        for (ErrorKind kind : List.of(ErrorKind.NOT_FOUND, ErrorKind.ALREADY_EXISTS, ErrorKind.INVALID_ARGUMENT,
                ErrorKind.FAILED_PRECONDITION, ErrorKind.UNAVAILABLE, ErrorKind.NOT_IMPLEMENTED)) {
            String suffix = classSuffix(kind);
            if (suffix != null && m.endsWith(suffix)) {
                return kind;
            }
        }
        for (String refusal : SHIM_STATE_REFUSALS) {
            if (m.contains(refusal)) {
                return ErrorKind.FAILED_PRECONDITION;
            }
        }
        if (m.contains("exec: ") || m.contains("executable file not found")) {
            if (m.contains("no such file or directory") || m.contains("executable file not found")) {
                return ErrorKind.NOT_FOUND;
            }
            if (m.contains("permission denied")) {
                return ErrorKind.PERMISSION_DENIED;
            }
        }
        if (m.contains("ttrpc: closed")) {
            return ErrorKind.UNAVAILABLE;
        }
        return ErrorKind.UNKNOWN;
    }

    // The runc shim's (and runc's) refusals of an operation in the wrong state, unclassified by containerd 1.6.
    private static final List<String> SHIM_STATE_REFUSALS = List.of(
            "cannot start a running process", "cannot start an already running container",
            "cannot delete a running process", "cannot pause a paused container",
            "cannot resume a running process", "container not running", "process already finished",
            "cannot exec in a stopped state", "cannot exec in a deleted state", "cannot start a stopped process",
            "cannot pause a stopped container", "cannot resume a stopped container");

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
            case UNKNOWN -> ": unknown";
            default -> null;
        };
    }
}
