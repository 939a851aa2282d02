package dev.berth.core;

/**
 * The closed set of failure kinds a Berth operation can report. The kinds map one-to-one onto gRPC status codes
 * (ttrpc carries the same codes), so a failure keeps its meaning whether it came from the embedded runtime, a shim
 * or a containerd daemon.
 */
public enum ErrorKind {
    /** The task, process, binary or file does not exist. */
    NOT_FOUND(5),
    /** A task or process with that id already exists in the namespace. */
    ALREADY_EXISTS(6),
    /** The request itself is wrong: a bad id, signal, spec or filter. Nothing was changed. */
    INVALID_ARGUMENT(3),
    /** The request is valid but not in the current state, e.g. starting a task twice. */
    FAILED_PRECONDITION(9),
    /** The operating system refused, e.g. a binary that is not executable. */
    PERMISSION_DENIED(7),
    /** A bounded resource ran out, e.g. an event subscriber's buffer. */
    RESOURCE_EXHAUSTED(8),
    /** The runtime, shim or daemon cannot be reached now; retrying may help. */
    UNAVAILABLE(14),
    /** A deadline passed before the operation finished. */
    DEADLINE_EXCEEDED(4),
    /** The backend does not support the operation. */
    NOT_IMPLEMENTED(12),
    /** A broken invariant inside Berth or a backend. */
    INTERNAL(13),
    /** A failure that carries no kind. */
    UNKNOWN(2);

    private final int grpcCode;

    ErrorKind(int grpcCode) {
        this.grpcCode = grpcCode;
    }

    /** The numeric gRPC/ttrpc status code of this kind. */
    public int grpcCode() {
        return grpcCode;
    }

    /** The kind of a numeric gRPC/ttrpc status code; unmapped codes (and OK) are {@link #UNKNOWN}. */
    public static ErrorKind ofGrpcCode(int code) {
        for (ErrorKind kind : values()) {
            if (kind.grpcCode == code) {
                return kind;
            }
        }
        return UNKNOWN;
    }
}
