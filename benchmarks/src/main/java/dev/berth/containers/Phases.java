package dev.berth.containers;

import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * Where a lifecycle's time goes, summed over a round: create (bundle, shim {@code start} action, connect, the
 * Create call with {@code runc create}), start, start to exit, and delete (Delete, Shutdown, the shim's end).
 */
final class Phases {
    private final LongAdder create = new LongAdder();
    private final LongAdder start = new LongAdder();
    private final LongAdder exit = new LongAdder();
    private final LongAdder delete = new LongAdder();
    private final LongAdder count = new LongAdder();
    private volatile long jvmCpuNanos;

    /** Adds one lifecycle, from the four instants (nanoTime) at which each phase ended, after {@code t0}. */
    void add(long t0, long created, long started, long exited, long deleted) {
        create.add(created - t0);
        start.add(started - created);
        exit.add(exited - started);
        delete.add(deleted - exited);
        count.increment();
    }

    /** Sets the JVM's CPU time over the round. */
    void jvmCpu(long nanos) {
        jvmCpuNanos = nanos;
    }

    /**
     * Mean milliseconds per phase and the JVM's CPU per lifecycle:
     * {@code phases n=… create=… start=… exit=… delete=… jvmCpu=…}.
     */
    String line() {
        double n = Math.max(1, count.sum()) * 1e6;
        return String.format(Locale.ROOT,
                "phases n=%d create=%.1fms start=%.1fms exit=%.1fms delete=%.1fms jvmCpu=%.1fms/op",
                count.sum(), create.sum() / n, start.sum() / n, exit.sum() / n, delete.sum() / n, jvmCpuNanos / n);
    }
}
