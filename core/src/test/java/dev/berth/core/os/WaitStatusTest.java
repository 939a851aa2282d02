package dev.berth.core.os;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ExitStatus;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class WaitStatusTest {
    static final Instant AT = Instant.parse("2024-01-01T00:00:00Z");

    @Test
    void theExitCodeIsInTheSecondByte() {
        assertThat(WaitStatus.decode(0x0300, AT)).isEqualTo(ExitStatus.exited(3, AT));
        assertThat(WaitStatus.decode(0xff00, AT)).isEqualTo(ExitStatus.exited(255, AT));
    }

    @Test
    void zeroIsExitCodeZero() {
        assertThat(WaitStatus.decode(0, AT)).isEqualTo(ExitStatus.exited(0, AT));
    }

    @Test
    void aSignalNumberInTheLowBitsIsADeathBySignal() {
        assertThat(WaitStatus.decode(9, AT)).isEqualTo(ExitStatus.signaled(9, AT));
        assertThat(WaitStatus.decode(15, AT)).isEqualTo(ExitStatus.signaled(15, AT));
    }

    @Test
    void theCoreDumpBitDoesNotChangeTheSignal() {
        assertThat(WaitStatus.decode(0x80 | 6, AT)).isEqualTo(ExitStatus.signaled(6, AT));
    }
}
