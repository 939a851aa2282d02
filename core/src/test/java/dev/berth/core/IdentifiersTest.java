package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdentifiersTest {
    static final String LONGEST = "a".repeat(Identifiers.MAX_LENGTH);

    @ParameterizedTest
    @ValueSource(strings = {"a", "default", "t1", "A9", "a.b", "a_b", "a-b", "io.containerd.runc.v2", "a-b.c_d"})
    void wellFormedIdsAreValid(String id) {
        assertThat(Identifiers.isValid(id)).isTrue();
        assertThat(Identifiers.validate("task id", id)).isEqualTo(id);
    }

    @Test
    void anIdOfExactlyTheMaximumLengthIsValid() {
        assertThat(LONGEST).hasSize(76);
        assertThat(Identifiers.isValid(LONGEST)).isTrue();
        assertThat(Identifiers.validate("task id", LONGEST)).isEqualTo(LONGEST);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a..b", "-a", "a-", ".a", "_a", "a b", "a/b", "a\0b", "ä", "naïve", "日本", "a\n"})
    void malformedIdsAreInvalidArguments(String id) {
        assertThat(Identifiers.isValid(id)).isFalse();
        assertThat(Errors.kindOf(catchThrowable(() -> Identifiers.validate("task id", id))))
                .isEqualTo(ErrorKind.INVALID_ARGUMENT);
    }

    @Test
    void anIdOneCharacterOverTheMaximumIsAnInvalidArgument() {
        String tooLong = LONGEST + "a";

        assertThat(Identifiers.isValid(tooLong)).isFalse();
        assertThat(Errors.kindOf(catchThrowable(() -> Identifiers.validate("task id", tooLong))))
                .isEqualTo(ErrorKind.INVALID_ARGUMENT);
    }
}
