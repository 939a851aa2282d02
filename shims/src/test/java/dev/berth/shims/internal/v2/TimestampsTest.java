package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TimestampsTest {

    @Test
    void goZeroTimeDecodesAsUnset() {
        Timestamp zero = Timestamp.newBuilder().setSeconds(-62_135_596_800L).build();
        assertThat(Timestamps.isGoZero(zero)).isTrue();
        assertThat(Timestamps.toInstant(zero)).isEmpty();
    }

    @Test
    void aRealExitTimeDecodesToItsInstant() {
        Timestamp exited = Timestamp.newBuilder().setSeconds(1_700_000_000L).setNanos(123_000_000).build();
        assertThat(Timestamps.toInstant(exited)).contains(Instant.ofEpochSecond(1_700_000_000L, 123_000_000));
    }

    @Test
    void goZeroSecondsWithNanosIsARealInstant() {
        Timestamp almost = Timestamp.newBuilder().setSeconds(Timestamps.GO_ZERO_SECONDS).setNanos(1).build();
        assertThat(Timestamps.toInstant(almost)).contains(Instant.parse("0001-01-01T00:00:00.000000001Z"));
    }
}
