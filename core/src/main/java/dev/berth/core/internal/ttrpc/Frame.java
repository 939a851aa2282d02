package dev.berth.core.internal.ttrpc;

import com.google.protobuf.ByteString;
import java.util.Objects;

/**
 * One complete ttrpc frame as read from the wire. The payload is a copy, so a frame holds no Netty buffer and needs no
 * release.
 *
 * @param streamId the stream id, an unsigned 32-bit value held in an int
 * @param type the frame type (1 request, 2 response)
 * @param flags the flags byte; always 0 in ttrpc 1.1 and ignored on receipt
 * @param payload the serialized {@code Request} or {@code Response}
 */
record Frame(int streamId, int type, int flags, ByteString payload) {
    Frame {
        Objects.requireNonNull(payload, "payload");
    }

    @Override
    public String toString() {
        return "Frame[stream=" + Integer.toUnsignedString(streamId) + ", type=" + type + ", flags=" + flags
                + ", length=" + payload.size() + "]";
    }
}
