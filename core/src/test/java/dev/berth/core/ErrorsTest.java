package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ErrorsTest {
    @Test
    void kindOfAndIsFindAKindBuriedInTheCauseChain() {
        Throwable t = new RuntimeException(new IllegalStateException(Errors.notFound("task %s", "t1")));

        assertThat(Errors.kindOf(t)).isEqualTo(ErrorKind.NOT_FOUND);
        assertThat(Errors.is(t, ErrorKind.NOT_FOUND)).isTrue();
        assertThat(Errors.is(t, ErrorKind.INTERNAL)).isFalse();
    }

    @Test
    void theOutermostKindWinsOverAKindFurtherDown() {
        Throwable t = Errors.of(ErrorKind.UNAVAILABLE, Errors.notFound("socket"), "connect shim %s", "t1");

        assertThat(Errors.kindOf(t)).isEqualTo(ErrorKind.UNAVAILABLE);
        assertThat(Errors.is(t, ErrorKind.NOT_FOUND)).isFalse();
    }

    @Test
    void plainExceptionsAndNullHaveTheUnknownKind() {
        assertThat(Errors.kindOf(new IOException("disk"))).isEqualTo(ErrorKind.UNKNOWN);
        assertThat(Errors.kindOf(null)).isEqualTo(ErrorKind.UNKNOWN);
        assertThat(Errors.is(null, ErrorKind.UNKNOWN)).isFalse();
        assertThat(Errors.is(new IOException("disk"), ErrorKind.UNKNOWN)).isFalse();
    }

    @Test
    void wrapKeepsTheKindOfTheCauseAndTheCauseItself() {
        BerthException cause = Errors.alreadyExists("task %s", "t1");

        BerthException wrapped = Errors.wrap(cause, "create %s", "t1");

        assertThat(wrapped.kind()).isEqualTo(ErrorKind.ALREADY_EXISTS);
        assertThat(wrapped.getCause()).isSameAs(cause);
    }

    @Test
    void wrapFindsAKindBelowAPlainExceptionAndOtherwiseGivesUnknown() {
        IOException plain = new IOException("broken pipe");
        RuntimeException deep = new RuntimeException(Errors.deadlineExceeded("wait"));

        assertThat(Errors.wrap(plain, "copy").kind()).isEqualTo(ErrorKind.UNKNOWN);
        assertThat(Errors.wrap(plain, "copy").getCause()).isSameAs(plain);
        assertThat(Errors.wrap(deep, "copy").kind()).isEqualTo(ErrorKind.DEADLINE_EXCEEDED);
    }

    @Test
    void aCycleInTheCauseChainDoesNotHang() {
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b", a);
        a.initCause(b);
        RuntimeException c = new RuntimeException("c");
        BerthException d = Errors.of(ErrorKind.INTERNAL, c, "d");
        c.initCause(d);

        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            assertThat(Errors.kindOf(a)).isEqualTo(ErrorKind.UNKNOWN);
            assertThat(Errors.is(b, ErrorKind.INTERNAL)).isFalse();
            assertThat(Errors.kindOf(c)).isEqualTo(ErrorKind.INTERNAL);
            assertThat(Errors.wrap(a, "x").kind()).isEqualTo(ErrorKind.UNKNOWN);
        });
    }

    @Test
    void onlyUnavailableIsRetryable() {
        assertThat(Errors.isRetryable(new RuntimeException(Errors.unavailable("shim")))).isTrue();
        assertThat(Errors.isRetryable(Errors.deadlineExceeded("start"))).isFalse();
        assertThat(Errors.isRetryable(new IOException("x"))).isFalse();
    }

    @Test
    void eachFactoryGivesItsKind() {
        assertThat(Errors.notFound("x").kind()).isEqualTo(ErrorKind.NOT_FOUND);
        assertThat(Errors.alreadyExists("x").kind()).isEqualTo(ErrorKind.ALREADY_EXISTS);
        assertThat(Errors.invalidArgument("x").kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
        assertThat(Errors.failedPrecondition("x").kind()).isEqualTo(ErrorKind.FAILED_PRECONDITION);
        assertThat(Errors.unavailable("x").kind()).isEqualTo(ErrorKind.UNAVAILABLE);
        assertThat(Errors.deadlineExceeded("x").kind()).isEqualTo(ErrorKind.DEADLINE_EXCEEDED);
        assertThat(Errors.internal("x").kind()).isEqualTo(ErrorKind.INTERNAL);
        assertThat(Errors.notImplemented("x").kind()).isEqualTo(ErrorKind.NOT_IMPLEMENTED);
    }

    @ParameterizedTest
    @EnumSource(ErrorKind.class)
    void everyKindSurvivesTheGrpcCodeRoundTrip(ErrorKind kind) {
        assertThat(ErrorKind.ofGrpcCode(kind.grpcCode())).isEqualTo(kind);
    }

    @Test
    void grpcOkAndUnmappedCodesAreUnknown() {
        assertThat(ErrorKind.ofGrpcCode(0)).isEqualTo(ErrorKind.UNKNOWN);
        assertThat(ErrorKind.ofGrpcCode(1)).isEqualTo(ErrorKind.UNKNOWN);
        assertThat(ErrorKind.ofGrpcCode(99)).isEqualTo(ErrorKind.UNKNOWN);
    }
}
