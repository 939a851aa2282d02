package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class ExitStatusTest {
    static final Instant AT = Instant.parse("2024-01-01T00:00:00Z");

    @Test
    void anExitedProcessHasACodeAndNoSignal() {
        ExitStatus status = ExitStatus.exited(3, AT);

        assertThat(status.kind()).isEqualTo(ExitStatus.Kind.EXITED);
        assertThat(status.code()).hasValue(3);
        assertThat(status.signal()).isEmpty();
        assertThat(status.toShellCode()).isEqualTo(3);
        assertThat(status.isSuccess()).isFalse();
        assertThat(status.exitedAt()).isEqualTo(AT);
    }

    @Test
    void onlyExitCodeZeroIsSuccess() {
        assertThat(ExitStatus.exited(0, AT).isSuccess()).isTrue();
        assertThat(ExitStatus.signaled(15, AT).isSuccess()).isFalse();
        assertThat(ExitStatus.unknown(AT).isSuccess()).isFalse();
    }

    @Test
    void aSignaledProcessHasASignalButNoCode() {
        ExitStatus status = ExitStatus.signaled(9, AT);

        assertThat(status.kind()).isEqualTo(ExitStatus.Kind.SIGNALED);
        assertThat(status.code()).isEmpty();
        assertThat(status.signal()).contains(Signal.KILL);
        assertThat(status.toShellCode()).isEqualTo(128 + 9);
    }

    @Test
    void anUnknownExitHasNeitherCodeNorSignalAndShellCode255() {
        ExitStatus status = ExitStatus.unknown(AT);

        assertThat(status.code()).isEmpty();
        assertThat(status.signal()).isEmpty();
        assertThat(status.toShellCode()).isEqualTo(ExitStatus.UNKNOWN_EXIT_CODE).isEqualTo(255);
    }

    @Test
    void anUnknownExitIgnoresTheValueItIsGiven() {
        assertThat(new ExitStatus(ExitStatus.Kind.UNKNOWN, 7, AT)).isEqualTo(ExitStatus.unknown(AT));
    }

    @Test
    void exitCodesOutside0To255AndSignalsOutside1To64AreInvalidArguments() {
        assertInvalid(() -> ExitStatus.exited(-1, AT));
        assertInvalid(() -> ExitStatus.exited(256, AT));
        assertInvalid(() -> ExitStatus.signaled(0, AT));
        assertInvalid(() -> ExitStatus.signaled(65, AT));
        assertThat(ExitStatus.exited(255, AT).code()).hasValue(255);
        assertThat(ExitStatus.signaled(64, AT).toShellCode()).isEqualTo(192);
    }

    static void assertInvalid(Runnable call) {
        assertThat(Errors.kindOf(catchThrowable(call::run))).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    }

    @Test
    void aShellCodeReadsBackAsTheStatusThatGaveIt() {
        Instant at = Instant.EPOCH;
        assertThat(ExitStatus.fromShellCode(0, at)).isEqualTo(ExitStatus.exited(0, at));
        assertThat(ExitStatus.fromShellCode(7, at)).isEqualTo(ExitStatus.exited(7, at));
        assertThat(ExitStatus.fromShellCode(128, at)).isEqualTo(ExitStatus.exited(128, at));
        assertThat(ExitStatus.fromShellCode(137, at)).isEqualTo(ExitStatus.signaled(9, at));
        assertThat(ExitStatus.fromShellCode(192, at)).isEqualTo(ExitStatus.signaled(64, at));
        assertThat(ExitStatus.fromShellCode(193, at)).isEqualTo(ExitStatus.exited(193, at));
        assertThat(ExitStatus.fromShellCode(255, at)).isEqualTo(ExitStatus.exited(255, at));
        assertThat(ExitStatus.fromShellCode(256, at).kind()).isEqualTo(ExitStatus.Kind.UNKNOWN);
        assertThat(ExitStatus.fromShellCode(-1, at).kind()).isEqualTo(ExitStatus.Kind.UNKNOWN);
        for (int code : new int[] {0, 3, 130, 137, 143}) {
            assertThat(ExitStatus.fromShellCode(code, at).toShellCode()).isEqualTo(code);
        }
    }
}
