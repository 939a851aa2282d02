package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SignalTest {
    @ParameterizedTest
    @CsvSource({"TERM,15", "SIGTERM,15", "sigterm,15", "sigkill,9", "Kill,9", "9,9", "' HUP ',1", "IOT,6",
        "SIGCLD,17", "sys,31", "1,1", "64,64", "34,34"})
    void parseAcceptsNamesWithOrWithoutSigInAnyCaseAndNumbers(String text, int number) {
        assertThat(Signal.parse(text)).isEqualTo(Signal.of(number));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "SIG", "TERMINATE", "SIGFOO", "-9", "9x", "RTMIN", "0", "65", "999", "1000"})
    void parseRejectsUnknownNamesAndOutOfRangeNumbers(String text) {
        assertThat(Errors.kindOf(catchThrowable(() -> Signal.parse(text)))).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    }

    @Test
    void numbersOutside1To64AreInvalidArguments() {
        assertThat(Errors.kindOf(catchThrowable(() -> Signal.of(0)))).isEqualTo(ErrorKind.INVALID_ARGUMENT);
        assertThat(Errors.kindOf(catchThrowable(() -> Signal.of(65)))).isEqualTo(ErrorKind.INVALID_ARGUMENT);
        assertThat(Errors.kindOf(catchThrowable(() -> Signal.of(-15)))).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    }

    @Test
    void constantsCarryTheLinuxNumbersAndNames() {
        assertThat(Signal.TERM.number()).isEqualTo(15);
        assertThat(Signal.KILL.name()).isEqualTo("KILL");
        assertThat(Signal.STOP.number()).isEqualTo(19);
        assertThat(Signal.of(9)).isEqualTo(Signal.KILL);
        assertThat(Signal.of(15).toString()).isEqualTo("SIGTERM");
    }

    @Test
    void realTimeSignalsAreNamedFromRtmin() {
        assertThat(Signal.of(34).name()).isEqualTo("RTMIN+0");
        assertThat(Signal.of(64).name()).isEqualTo("RTMIN+30");
        assertThat(Signal.of(32).name()).isEqualTo("RTMIN-2");
        assertThat(Signal.of(33).name()).isEqualTo("RTMIN-1");
    }

    @Test
    void everyNameParsesBackToItsSignalUpToSys() {
        for (int n = 1; n <= 31; n++) {
            assertThat(Signal.parse(Signal.of(n).name())).isEqualTo(Signal.of(n));
            assertThat(Signal.parse(Signal.of(n).toString())).isEqualTo(Signal.of(n));
        }
    }
}
