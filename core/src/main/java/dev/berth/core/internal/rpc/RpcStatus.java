package dev.berth.core.internal.rpc;

import java.util.Objects;

/**
 * A gRPC/ttrpc status as it goes on the wire: a numeric code ({@code 0} is OK) and a message.
 *
 * @param code the gRPC status code
 * @param message the status message, possibly empty
 */
public record RpcStatus(int code, String message) {
    /** The OK status. */
    public static final RpcStatus OK = new RpcStatus(GrpcErrors.OK, "");

    public RpcStatus {
        Objects.requireNonNull(message, "message");
    }

    /** Whether this is the OK status (code 0). */
    public boolean isOk() {
        return code == GrpcErrors.OK;
    }
}
