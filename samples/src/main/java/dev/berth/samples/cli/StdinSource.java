package dev.berth.samples.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/** The command's stdin as a {@code Flux<ByteBuffer>} for {@code Task.writeStdin}. */
final class StdinSource {
    private static final int CHUNK = 8192;

    private StdinSource() {
    }

    /**
     * Reads {@code in} one chunk per request, only as the task takes it, and completes at end of file.
     *
     * <p>{@code InputStream.read} blocks, so every read runs on one boundedElastic worker: subscribeOn also moves
     * each later request there, whichever thread of the runtime makes it. A read blocked on a terminal cannot be
     * interrupted; the worker is a daemon thread and goes with the JVM.
     */
    static Flux<ByteBuffer> read(InputStream in) {
        return Flux.<ByteBuffer>generate(sink -> {
            byte[] chunk = new byte[CHUNK];
            int n;
            try {
                n = in.read(chunk);
            } catch (IOException e) {
                sink.error(new ReadException(e));
                return;
            }
            if (n < 0) {
                sink.complete();
            } else {
                sink.next(ByteBuffer.wrap(chunk, 0, n));
            }
        }).subscribeOn(Schedulers.boundedElastic());
    }

    /** The {@link ReadException} in {@code error}'s cause chain, if reading stdin is what failed. */
    static @Nullable ReadException readErrorIn(@Nullable Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ReadException r) {
                return r;
            }
        }
        return null;
    }

    /** Reading the command's own stdin failed; the cause is the {@link IOException}. */
    static final class ReadException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ReadException(IOException cause) {
            super("cannot read stdin: " + cause.getMessage(), cause);
        }
    }
}
