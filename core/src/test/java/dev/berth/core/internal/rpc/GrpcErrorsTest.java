package dev.berth.core.internal.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class GrpcErrorsTest {
    @Test
    void everyKindRoundTripsThroughItsOwnCode() {
        for (ErrorKind kind : EnumSet.allOf(ErrorKind.class)) {
            BerthException error = Errors.of(kind, "boom");
            RpcStatus status = GrpcErrors.statusOf(error);
            assertThat(status.code()).isEqualTo(kind.grpcCode());
            assertThat(GrpcErrors.kindOf(status.code())).isEqualTo(kind);
            assertThat(Errors.kindOf(GrpcErrors.toException(status.code(), status.message(), "x"))).isEqualTo(kind);
        }
    }

    @Test
    void codesWithoutAKindMapToTheClosestKind() {
        assertThat(GrpcErrors.kindOf(GrpcErrors.CANCELLED)).isEqualTo(ErrorKind.UNKNOWN);
        assertThat(GrpcErrors.kindOf(GrpcErrors.ABORTED)).isEqualTo(ErrorKind.FAILED_PRECONDITION);
        assertThat(GrpcErrors.kindOf(GrpcErrors.OUT_OF_RANGE)).isEqualTo(ErrorKind.INVALID_ARGUMENT);
        assertThat(GrpcErrors.kindOf(GrpcErrors.DATA_LOSS)).isEqualTo(ErrorKind.INTERNAL);
        assertThat(GrpcErrors.kindOf(GrpcErrors.UNAUTHENTICATED)).isEqualTo(ErrorKind.PERMISSION_DENIED);
        assertThat(GrpcErrors.kindOf(17)).isEqualTo(ErrorKind.UNKNOWN);
        assertThat(GrpcErrors.kindOf(-1)).isEqualTo(ErrorKind.UNKNOWN);
    }

    @Test
    void aFailureWithoutAKindIsSentAsUnknownWithItsMessage() {
        RpcStatus status = GrpcErrors.statusOf(new IllegalStateException("bad state"));
        assertThat(status).isEqualTo(new RpcStatus(2, "bad state"));
        assertThat(GrpcErrors.statusOf(new IllegalStateException()).message()).isEqualTo("IllegalStateException");
    }

    @Test
    void aWrappedFailureKeepsTheKindOfItsCause() {
        BerthException wrapped = Errors.wrap(Errors.notFound("task %s", "web"), "start");
        assertThat(GrpcErrors.codeOf(new RuntimeException("outer", wrapped))).isEqualTo(5);
    }

    // Message construction is this class's own contract, so these tests read the text.
    @Test
    void theContainerdClassSuffixIsDroppedWhenItMatchesTheCode() {
        BerthException error = GrpcErrors.toException(5, "container not created: not found", "ttrpc Task/Delete");
        assertThat(Errors.is(error, ErrorKind.NOT_FOUND)).isTrue();
        assertThat(error.getMessage()).isEqualTo("ttrpc Task/Delete: container not created");
        assertThat(GrpcErrors.toException(6, "id exec1: already exists", "x").getMessage())
                .isEqualTo("x: id exec1");
    }

    @Test
    void aSuffixOfAnotherKindIsKept() {
        BerthException error = GrpcErrors.toException(2, "type with url x: not found", "ttrpc Task/Create");
        assertThat(Errors.is(error, ErrorKind.UNKNOWN)).isTrue();
        assertThat(error.getMessage()).isEqualTo("ttrpc Task/Create: type with url x: not found");
    }

    @Test
    void theRemoteTextIsKeptAndACodeWithoutItsOwnKindIsNamed() {
        assertThat(GrpcErrors.toException(10, "conflict", "call").getMessage()).isEqualTo("call: conflict (status ABORTED)");
        assertThat(GrpcErrors.toException(5, "", "call").getMessage()).isEqualTo("call (status NOT_FOUND)");
        assertThat(GrpcErrors.toException(5, "not found", "call").getMessage()).isEqualTo("call: not found");
    }
}
