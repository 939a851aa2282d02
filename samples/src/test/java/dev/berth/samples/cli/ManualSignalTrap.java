package dev.berth.samples.cli;

import dev.berth.core.Signal;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** Signals without the JVM, sent when the test says: {@link #send} delivers to the handler trapped last. */
final class ManualSignalTrap implements SignalTrap {
    /** Completes with the handler once the command traps signals. */
    final CompletableFuture<Consumer<Signal>> trapped = new CompletableFuture<>();

    @Override
    public Registration trap(Consumer<Signal> handler) {
        trapped.complete(handler);
        return () -> { };
    }

    @Override
    public Registration atShutdown(Runnable hook) {
        return () -> { };
    }

    /** Delivers {@code signal} on the caller's thread, once the command has trapped signals. */
    void send(Signal signal) {
        trapped.join().accept(signal);
    }
}
