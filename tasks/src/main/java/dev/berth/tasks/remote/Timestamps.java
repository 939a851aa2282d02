package dev.berth.tasks.remote;

import com.google.protobuf.Timestamp;
import dev.berth.core.ExitStatus;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/** containerd's timestamps and exit codes (spec §1.6, §7.1). */
final class Timestamps {
    /** The Go zero time {@code 0001-01-01T00:00:00Z}: containerd's "not set", always sent. */
    static final long GO_ZERO_SECONDS = -62135596800L;

    private Timestamps() {
    }

    /** The instant of {@code t}, or null for an absent or zero-time one. */
    static @Nullable Instant instant(@Nullable Timestamp t) {
        if (t == null || t.getSeconds() <= GO_ZERO_SECONDS) {
            return null;
        }
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }

    static Timestamp timestamp(Instant at) {
        return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
    }

    /**
     * An exit as containerd reports it: the code, or 128 + N for a process killed by signal N (containerd does not
     * tell the two apart; a code above 128 is read as a signal, as shells do). A zero-time {@code exitedAt} is
     * replaced by {@code fallback}.
     */
    static ExitStatus exit(int status, @Nullable Timestamp exitedAt, Instant fallback) {
        Instant at = instant(exitedAt);
        Instant when = at != null ? at : fallback;
        return ExitStatus.fromShellCode(status, when);
    }
}
