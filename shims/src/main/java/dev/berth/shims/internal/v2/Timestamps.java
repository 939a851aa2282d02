package dev.berth.shims.internal.v2;

import com.google.protobuf.Timestamp;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Decodes the shim's timestamps. Its non-nullable Go {@code time.Time} fields ({@code exited_at} in State, Wait and
 * Delete replies) are always on the wire; "not exited" is Go's zero time, 0001-01-01T00:00:00Z (spec §2, pitfall 13).
 */
public final class Timestamps {
    /** The seconds of Go's zero {@code time.Time}, 0001-01-01T00:00:00Z. */
    public static final long GO_ZERO_SECONDS = -62_135_596_800L;

    private Timestamps() {
    }

    /**
     * The instant of a shim timestamp, or empty for Go's zero time (the process has not exited).
     *
     * @param timestamp a timestamp as decoded from a reply
     */
    public static Optional<Instant> toInstant(Timestamp timestamp) {
        Objects.requireNonNull(timestamp, "timestamp");
        if (isGoZero(timestamp)) {
            return Optional.empty();
        }
        return Optional.of(Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos()));
    }

    /** Whether {@code timestamp} is Go's zero time, which the shim sends for "unset". */
    public static boolean isGoZero(Timestamp timestamp) {
        return timestamp.getSeconds() == GO_ZERO_SECONDS && timestamp.getNanos() == 0;
    }
}
