package dev.berth.io;

import dev.berth.core.AsyncCloseable;
import java.nio.ByteBuffer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The read end of a pipe as a single-use, demand-driven stream. */
public interface OutputPipe extends AsyncCloseable {
    /**
     * The bytes of the pipe until end of file. Reads happen only while the subscriber has outstanding demand, so a
     * subscriber that stops requesting stops the writer (it blocks in {@code write(2)} once the pipe is full).
     *
     * @return a hot, single-use Flux of fresh heap buffers, emitted on the loop thread. A second subscription fails
     *     with FAILED_PRECONDITION, so does one after {@link #close()}. Cancelling closes the pipe.
     */
    Flux<ByteBuffer> flux();

    /**
     * Closes the pipe if nobody has subscribed; a subscribed stream keeps draining until it ends.
     *
     * @return a cold Mono completing when done
     */
    @Override
    Mono<Void> close();
}
