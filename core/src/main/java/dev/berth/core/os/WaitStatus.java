package dev.berth.core.os;

import dev.berth.core.ExitStatus;
import java.time.Instant;

/** Decodes the raw status of {@code waitpid(2)}. */
public final class WaitStatus {
    private WaitStatus() {
    }

    /** The exit a raw wait status describes: exited with a code, or killed by a signal. */
    public static ExitStatus decode(int raw, Instant at) {
        int termSig = raw & 0x7f;
        if (termSig == 0) {
            return ExitStatus.exited((raw >> 8) & 0xff, at);
        }
        return ExitStatus.signaled(termSig, at);
    }
}
