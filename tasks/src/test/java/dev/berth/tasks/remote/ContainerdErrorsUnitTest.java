package dev.berth.tasks.remote;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.internal.rpc.GrpcErrors;
import org.junit.jupiter.api.Test;

/** containerd's irregular status codes (spec §6) map to the kinds Berth's local runtimes give. */
class ContainerdErrorsUnitTest {
    static ErrorKind kind(int code, String message) {
        return Errors.kindOf(GrpcErrors.fromContainerd(code, message, "Tasks/X"));
    }

    @Test
    void classifiedCodesKeepTheirKind() {
        assertThat(kind(5, "container \"x\" in namespace \"ns\": not found")).isEqualTo(ErrorKind.NOT_FOUND);
        assertThat(kind(6, "task e1: already exists")).isEqualTo(ErrorKind.ALREADY_EXISTS);
        assertThat(kind(9, "namespace is required: failed precondition")).isEqualTo(ErrorKind.FAILED_PRECONDITION);
        assertThat(kind(14, "Socket closed")).isEqualTo(ErrorKind.UNAVAILABLE);
        assertThat(kind(4, "failed to create shim task: …: context deadline exceeded"))
                .isEqualTo(ErrorKind.DEADLINE_EXCEEDED);
    }

    @Test
    void anUnknownCarryingAClassTextTakesThatClass() {
        // Tasks/Metrics skips the mapping; so does a Subscribe filter that does not parse.
        assertThat(kind(2, "namespace is required: failed precondition")).isEqualTo(ErrorKind.FAILED_PRECONDITION);
        assertThat(kind(2, "subscription error: failed parsing subscription filters: filters: parse error: "
                + "[id==>|,|<]: expected value: invalid argument")).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    }

    @Test
    void theShimsStateRefusalsAreFailedPrecondition() {
        assertThat(kind(2, "cannot start a running process: unknown")).isEqualTo(ErrorKind.FAILED_PRECONDITION);
        assertThat(kind(2, "failed to delete task: cannot delete a running process: unknown"))
                .isEqualTo(ErrorKind.FAILED_PRECONDITION);
        assertThat(kind(2, "cannot pause a paused container: unknown")).isEqualTo(ErrorKind.FAILED_PRECONDITION);
        assertThat(kind(2, "cannot resume a running process: unknown")).isEqualTo(ErrorKind.FAILED_PRECONDITION);
    }

    @Test
    void aProgramRuncCannotExecIsNotFoundOrPermissionDenied() {
        assertThat(kind(2, "failed to create shim task: OCI runtime create failed: runc create failed: unable to "
                + "start container process: exec: \"/bin/nonexistent\": stat /bin/nonexistent: no such file or "
                + "directory: unknown")).isEqualTo(ErrorKind.NOT_FOUND);
        assertThat(kind(2, "OCI runtime create failed: exec: \"x\": executable file not found in $PATH: unknown"))
                .isEqualTo(ErrorKind.NOT_FOUND);
        assertThat(kind(2, "OCI runtime create failed: exec: \"/etc/passwd\": permission denied: unknown"))
                .isEqualTo(ErrorKind.PERMISSION_DENIED);
    }

    @Test
    void aShimThatWentAwayIsUnavailableAndAnythingElseStaysUnknown() {
        assertThat(kind(2, "ttrpc: closed: unknown")).isEqualTo(ErrorKind.UNAVAILABLE);
        assertThat(kind(2, "failed to start shim: type with url type.googleapis.com/containerd.runc.v1.Options: "
                + "not found: exit status 1")).isEqualTo(ErrorKind.UNKNOWN);
        assertThat(kind(2, "something else entirely")).isEqualTo(ErrorKind.UNKNOWN);
    }

    @Test
    void aStreamTheDaemonResetIsUnavailableSoItIsMadeAgain() {
        assertThat(Errors.kindOf(GrpcErrors.fromContainerdStream(1, "RST_STREAM", "Events/Subscribe")))
                .isEqualTo(ErrorKind.UNAVAILABLE);
        assertThat(Errors.kindOf(GrpcErrors.fromContainerdStream(2, "subscription error: failed parsing "
                + "subscription filters: filters: parse error: invalid argument", "Events/Subscribe")))
                .isEqualTo(ErrorKind.INVALID_ARGUMENT);
        assertThat(Errors.kindOf(GrpcErrors.fromContainerd(1, "cancelled", "Tasks/Wait")))
                .as("a unary CANCELLED keeps the general mapping").isEqualTo(ErrorKind.UNKNOWN);
    }

    @Test
    void theRefinedErrorKeepsTheOriginalCodeInItsMessage() {
        assertThat(GrpcErrors.fromContainerd(2, "cannot start a running process: unknown", "Tasks/Start")
                .getMessage()).contains("Tasks/Start").contains("UNKNOWN");
    }
}
