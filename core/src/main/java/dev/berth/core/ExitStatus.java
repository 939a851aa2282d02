package dev.berth.core;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How a process ended: with an exit code, killed by a signal, or in a way nobody could observe (a shim that died
 * with its task). A signal death is never reported as a plain exit code: {@link #code()} is empty for it, and
 * {@link #toShellCode()} gives the shell's {@code 128 + N} only when asked.
 *
 * @param kind how the process ended
 * @param value the exit code for {@link Kind#EXITED}, the signal number for {@link Kind#SIGNALED}, 0 otherwise
 * @param exitedAt when the runtime observed the exit
 */
public record ExitStatus(Kind kind, int value, Instant exitedAt) {
    /** How a process ended. */
    public enum Kind {
        /** The process called exit; {@link #value()} is the code (0-255). */
        EXITED,
        /** A signal killed the process; {@link #value()} is the signal number. */
        SIGNALED,
        /** The exit could not be observed (e.g. the runtime holding the process died). */
        UNKNOWN
    }

    /** The exit code containerd reports when it cannot know one. */
    public static final int UNKNOWN_EXIT_CODE = 255;

    public ExitStatus {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(exitedAt, "exitedAt");
        switch (kind) {
            case EXITED -> {
                if (value < 0 || value > 255) {
                    throw Errors.invalidArgument("exit code %d is outside 0-255", value);
                }
            }
            case SIGNALED -> {
                if (value < 1 || value > 64) {
                    throw Errors.invalidArgument("signal %d is outside 1-64", value);
                }
            }
            case UNKNOWN -> value = 0;
        }
    }

    /** A process that exited with {@code code}. */
    public static ExitStatus exited(int code, Instant at) {
        return new ExitStatus(Kind.EXITED, code, at);
    }

    /** A process killed by {@code signal}. */
    public static ExitStatus signaled(int signal, Instant at) {
        return new ExitStatus(Kind.SIGNALED, signal, at);
    }

    /** A process whose exit could not be observed. */
    public static ExitStatus unknown(Instant at) {
        return new ExitStatus(Kind.UNKNOWN, 0, at);
    }

    /** The exit code, empty when a signal killed the process or the exit is unknown. */
    public OptionalInt code() {
        return kind == Kind.EXITED ? OptionalInt.of(value) : OptionalInt.empty();
    }

    /** The signal that killed the process, empty otherwise. */
    public Optional<Signal> signal() {
        return kind == Kind.SIGNALED ? Optional.of(Signal.of(value)) : Optional.empty();
    }

    /** Whether the process exited with code 0. */
    public boolean isSuccess() {
        return kind == Kind.EXITED && value == 0;
    }

    /**
     * Reads back a status as containerd and its shims report it ({@code exit_status}): like a shell's {@code $?},
     * 129 to 192 is {@code signaled(status - 128)}, 0 to 255 otherwise {@code exited(status)}, anything else unknown.
     * The wire cannot tell {@code exit 130} from SIGINT; this reads it as the signal, as containerd's clients do.
     */
    public static ExitStatus fromShellCode(int status, Instant at) {
        if (status > 128 && status <= 128 + 64) {
            return signaled(status - 128, at);
        }
        if (status < 0 || status > 255) {
            return unknown(at);
        }
        return exited(status, at);
    }

    /**
     * The status as a shell reports it: the code, {@code 128 + N} for signal N, and 255 when unknown. This is also
     * what containerd puts in {@code TaskExit.exit_status}.
     */
    public int toShellCode() {
        return switch (kind) {
            case EXITED -> value;
            case SIGNALED -> 128 + value;
            case UNKNOWN -> UNKNOWN_EXIT_CODE;
        };
    }

    @Override
    public String toString() {
        return switch (kind) {
            case EXITED -> "exited(" + value + ")";
            case SIGNALED -> "killed(" + Signal.of(value) + ")";
            case UNKNOWN -> "unknown";
        } + " at " + exitedAt;
    }
}
