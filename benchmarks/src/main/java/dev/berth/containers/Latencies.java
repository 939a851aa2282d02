package dev.berth.containers;

import java.util.Arrays;
import java.util.Locale;

/** A round's result: operations, wall time and per-operation latencies, printed as one line. */
record Latencies(String what, int concurrency, long wallNanos, long[] nanos) {

    /** Operations per second over the wall time. */
    double rate() {
        return nanos.length / (wallNanos / 1e9);
    }

    /** The {@code p}-th percentile (0..100) in milliseconds, nearest rank. */
    double percentileMillis(double p) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1e6;
    }

    /**
     * {@code <what> c=<concurrency> n=<ops> wall=<s> rate=<ops/s> p50=<ms> p90=<ms> p99=<ms> max=<ms>}, the format
     * {@code containers-side-by-side.sh} parses.
     */
    String line() {
        return String.format(Locale.ROOT,
                "%s c=%d n=%d wall=%.3fs rate=%.2f/s p50=%.1fms p90=%.1fms p99=%.1fms max=%.1fms",
                what, concurrency, nanos.length, wallNanos / 1e9, rate(), percentileMillis(50), percentileMillis(90),
                percentileMillis(99), percentileMillis(100));
    }
}
