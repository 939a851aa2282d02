package dev.berth.samples.cli;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Copies a task's output stream to one of the command's streams, chunk by chunk as it arrives. */
final class OutputPump {
    /** Chunks buffered between the runtime's thread and the writing thread; small, so backpressure stays real. */
    private static final int PREFETCH = 4;

    private OutputPump() {
    }

    /**
     * Subscribes to {@code output} now and writes each chunk to {@code target}, flushing after each.
     *
     * @return a future completing when the output is done: normally, or early and normally when {@code target}
     *     is closed (the subscription is then cancelled, so the task gets SIGPIPE on its next write, as in a shell
     *     pipeline), or exceptionally with the output's own error
     */
    static CompletableFuture<Void> copy(Flux<ByteBuffer> output, PrintStream target) {
        // The runtime emits on its own non-blocking threads; writing to a terminal or pipe blocks, so hop first.
        return output.publishOn(Schedulers.boundedElastic(), PREFETCH)
                .doOnNext(chunk -> write(chunk, target))
                .then()
                .onErrorResume(TargetClosedException.class, e -> Mono.empty())
                .toFuture();
    }

    private static void write(ByteBuffer chunk, PrintStream target) {
        if (chunk.hasArray()) {
            target.write(chunk.array(), chunk.arrayOffset() + chunk.position(), chunk.remaining());
        } else {
            byte[] bytes = new byte[chunk.remaining()];
            chunk.get(bytes);
            target.write(bytes, 0, bytes.length);
        }
        target.flush();
        // PrintStream keeps I/O errors to itself: this is how a closed stdout (EPIPE) shows.
        if (target.checkError()) {
            throw new TargetClosedException();
        }
    }

    /** The command's own output stream can no longer be written. */
    static final class TargetClosedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TargetClosedException() {
            super("output closed", null, false, false);
        }
    }
}
