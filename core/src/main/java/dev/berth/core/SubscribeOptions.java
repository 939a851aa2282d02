package dev.berth.core;

import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * How one event subscription buffers: at most {@code bufferSize} events wait for a slow subscriber, and
 * {@code overflow} says what happens past that.
 *
 * @param bufferSize the most events held for this subscriber, at least 1
 * @param overflow what happens when the buffer is full
 * @param onDrop with {@link Overflow#DROP_OLDEST}, told the running total of dropped events at each drop (on the
 *     publisher's thread: keep it short and non-blocking)
 */
public record SubscribeOptions(int bufferSize, Overflow overflow, LongConsumer onDrop) {
    /** The default buffer size. */
    public static final int DEFAULT_BUFFER_SIZE = 1024;
    /** A buffer of 1,024 events that fails the subscription when full. */
    public static final SubscribeOptions DEFAULTS = new SubscribeOptions(DEFAULT_BUFFER_SIZE, Overflow.FAIL, n -> {
    });

    /** What a full subscriber buffer does. */
    public enum Overflow {
        /** Fail the subscription with RESOURCE_EXHAUSTED: the subscriber knows it missed events. */
        FAIL,
        /** Drop the oldest buffered event to make room, and count it. */
        DROP_OLDEST
    }

    public SubscribeOptions {
        if (bufferSize < 1) {
            throw Errors.invalidArgument("bufferSize must be at least 1, not %d", bufferSize);
        }
        Objects.requireNonNull(overflow, "overflow");
        Objects.requireNonNull(onDrop, "onDrop");
    }

    /** Fail with RESOURCE_EXHAUSTED past {@code bufferSize} events. */
    public static SubscribeOptions failWhenFull(int bufferSize) {
        return new SubscribeOptions(bufferSize, Overflow.FAIL, n -> {
        });
    }

    /** Drop the oldest past {@code bufferSize} events, telling {@code onDrop} the running total of drops. */
    public static SubscribeOptions dropOldest(int bufferSize, LongConsumer onDrop) {
        return new SubscribeOptions(bufferSize, Overflow.DROP_OLDEST, onDrop);
    }
}
