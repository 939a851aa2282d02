package dev.berth.tasks.remote;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import dev.berth.core.ExitStatus;
import dev.berth.core.Signal;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** containerd's zero time and its 128+N exit codes (spec §1.6, §7.1). */
class TimestampsUnitTest {
    static final Instant FALLBACK = Instant.parse("2026-01-01T00:00:00Z");
    static final Timestamp GO_ZERO = Timestamp.newBuilder().setSeconds(-62135596800L).build();

    @Test
    void theGoZeroTimeIsAbsent() {
        assertThat(Timestamps.instant(GO_ZERO)).isNull();
        assertThat(Timestamps.instant(null)).isNull();
        assertThat(Timestamps.instant(Timestamp.newBuilder().setSeconds(1_700_000_000L).setNanos(5).build()))
                .isEqualTo(Instant.ofEpochSecond(1_700_000_000L, 5));
    }

    @Test
    void codesAboveOneTwentyEightAreSignalsAndTheZeroTimeTakesTheFallback() {
        ExitStatus killed = Timestamps.exit(137, GO_ZERO, FALLBACK);
        assertThat(killed.signal()).contains(Signal.KILL);
        assertThat(killed.exitedAt()).isEqualTo(FALLBACK);
        ExitStatus seven = Timestamps.exit(7, Timestamps.timestamp(Instant.ofEpochSecond(10)), FALLBACK);
        assertThat(seven.code()).hasValue(7);
        assertThat(seven.exitedAt()).isEqualTo(Instant.ofEpochSecond(10));
        assertThat(Timestamps.exit(128, null, FALLBACK).code()).hasValue(128);
    }
}
