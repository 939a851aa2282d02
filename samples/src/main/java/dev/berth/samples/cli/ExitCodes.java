package dev.berth.samples.cli;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;

/**
 * The exit codes of {@code berth}, as container runtimes and shells use them: the task's own code when it ran,
 * {@code 128 + N} when signal N killed it, and 125-127 for failures before it could run.
 */
final class ExitCodes {
    /** Berth itself failed: bad flags, an invalid id, a runtime error. */
    static final int BERTH_ERROR = 125;
    /** The command exists but cannot be executed. */
    static final int CANNOT_EXECUTE = 126;
    /** The command was not found. */
    static final int COMMAND_NOT_FOUND = 127;

    private ExitCodes() {
    }

    /** The exit code for a failed create or start: 127 for NOT_FOUND, 126 for PERMISSION_DENIED, else 125. */
    static int ofLaunchFailure(Throwable failure) {
        if (Errors.is(failure, ErrorKind.NOT_FOUND)) {
            return COMMAND_NOT_FOUND;
        }
        if (Errors.is(failure, ErrorKind.PERMISSION_DENIED)) {
            return CANNOT_EXECUTE;
        }
        return BERTH_ERROR;
    }
}
