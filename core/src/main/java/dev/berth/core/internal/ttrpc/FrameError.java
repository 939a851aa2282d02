package dev.berth.core.internal.ttrpc;

import dev.berth.core.BerthException;
import java.util.Objects;

/**
 * A framing failure the decoder hands up the pipeline instead of a frame. The connection is unusable after it: the
 * decoder discards every later byte, and the side that receives it closes the connection.
 *
 * @param error the typed failure (RESOURCE_EXHAUSTED for an oversized frame, INVALID_ARGUMENT for an unexpected frame
 *     type, UNAVAILABLE for a frame cut short by end of stream)
 * @param streamId the stream id in the offending header, or 0 when there was no complete header
 * @param oversized whether the header announced a payload above the limit (a server answers that stream with code 8)
 */
record FrameError(BerthException error, int streamId, boolean oversized) {
    FrameError {
        Objects.requireNonNull(error, "error");
    }
}
