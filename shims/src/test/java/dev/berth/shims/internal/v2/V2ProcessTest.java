package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import dev.berth.core.ExitStatus;
import dev.berth.core.Signal;
import dev.berth.shims.internal.v2.proto.WaitResponse;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class V2ProcessTest {
    static final Timestamp AT = Timestamp.newBuilder().setSeconds(1_700_000_000L).setNanos(5).build();

    static ExitStatus decode(int status) {
        return V2Process.decode(WaitResponse.newBuilder().setExitStatus(status).setExitedAt(AT).build());
    }

    @Test
    void plainCodesAreExitsAndTheShimsTimeIsKept() {
        assertThat(decode(0)).isEqualTo(ExitStatus.exited(0, Instant.ofEpochSecond(1_700_000_000L, 5)));
        assertThat(decode(7).code()).hasValue(7);
        assertThat(decode(128).code()).hasValue(128);
        assertThat(decode(255).code()).hasValue(255);
    }

    @Test
    void onePastOneTwentyEightUpToOneNinetyTwoIsTheSignalOverOneTwentyEight() {
        assertThat(decode(137).signal()).contains(Signal.KILL);
        assertThat(decode(143).signal()).contains(Signal.TERM);
        assertThat(decode(143).toShellCode()).isEqualTo(143);
        assertThat(decode(129).signal()).contains(Signal.HUP);
        assertThat(decode(192).signal()).contains(Signal.of(64));
        assertThat(decode(193).code()).hasValue(193);
    }

    @Test
    void theGoZeroTimeIsReplacedByNow() {
        Instant before = Instant.now();
        ExitStatus status = V2Process.decode(WaitResponse.newBuilder().setExitStatus(3)
                .setExitedAt(Timestamp.newBuilder().setSeconds(Timestamps.GO_ZERO_SECONDS)).build());
        assertThat(status.exitedAt()).isAfterOrEqualTo(before);
    }

    @Test
    void aStatusBeyondAByteIsUnknown() {
        assertThat(decode(300).kind()).isEqualTo(ExitStatus.Kind.UNKNOWN);
    }
}
