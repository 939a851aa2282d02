package dev.berth.samples.cli;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/** An output stream that keeps what is written and completes {@link #seen} once it contains {@link #awaited}. */
final class LineWatcher extends OutputStream {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final String awaited;
    final CompletableFuture<String> seen = new CompletableFuture<>();

    LineWatcher(String awaited) {
        this.awaited = awaited;
    }

    @Override
    public synchronized void write(int b) {
        bytes.write(b);
        check();
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        bytes.write(b, off, len);
        check();
    }

    private void check() {
        String text = bytes.toString(StandardCharsets.UTF_8);
        if (text.contains(awaited)) {
            seen.complete(text);
        }
    }

    synchronized String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
