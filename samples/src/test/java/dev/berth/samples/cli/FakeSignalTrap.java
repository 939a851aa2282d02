package dev.berth.samples.cli;

import dev.berth.core.Signal;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Signals without the JVM: the signals listed in {@link #arriving} are delivered, in order and on the caller's
 * thread, the moment the CLI traps signals (its task then runs). Counts what is still registered.
 */
final class FakeSignalTrap implements SignalTrap {
    final List<Signal> arriving = new CopyOnWriteArrayList<>();
    final AtomicInteger trapsOpen = new AtomicInteger();
    final AtomicInteger trapsEver = new AtomicInteger();
    final AtomicInteger hooksOpen = new AtomicInteger();
    final AtomicInteger hooksEver = new AtomicInteger();

    FakeSignalTrap arriving(Signal... signals) {
        arriving.addAll(List.of(signals));
        return this;
    }

    @Override
    public Registration trap(Consumer<Signal> handler) {
        trapsOpen.incrementAndGet();
        trapsEver.incrementAndGet();
        arriving.forEach(handler);
        return once(trapsOpen::decrementAndGet);
    }

    @Override
    public Registration atShutdown(Runnable hook) {
        hooksOpen.incrementAndGet();
        hooksEver.incrementAndGet();
        return once(hooksOpen::decrementAndGet);
    }

    private static Registration once(Runnable undo) {
        AtomicBoolean done = new AtomicBoolean();
        return () -> {
            if (done.compareAndSet(false, true)) {
                undo.run();
            }
        };
    }
}
