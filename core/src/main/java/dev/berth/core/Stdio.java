package dev.berth.core;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a process's standard streams go. The default is stdin from nothing ({@code /dev/null}) and stdout and
 * stderr as pipes read through {@link Process#stdout()} and {@link Process#stderr()}.
 *
 * @param stdin the source of standard input
 * @param stdout where standard output goes
 * @param stderr where standard error goes
 */
public record Stdio(Input stdin, Output stdout, Output stderr) {
    /** Stdin from /dev/null, stdout and stderr as pipes. */
    public static final Stdio DEFAULT = new Stdio(Input.NULL, Output.PIPE, Output.PIPE);
    /** Every stream on /dev/null. */
    public static final Stdio NULL = new Stdio(Input.NULL, Output.NULL, Output.NULL);

    public Stdio {
        Objects.requireNonNull(stdin, "stdin");
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
    }

    /** This configuration with stdin as a pipe fed by {@link Process#writeStdin}. */
    public Stdio withStdinPipe() {
        return new Stdio(Input.PIPE, stdout, stderr);
    }

    /** The source of a standard input. */
    public sealed interface Input {
        /** Reads from /dev/null: the process sees end of file at once. */
        Input NULL = new NullInput();
        /** A pipe: write with {@link Process#writeStdin}, close with {@link Process#closeStdin}. */
        Input PIPE = new PipeInput();
    }

    /** Where an output stream goes. */
    public sealed interface Output {
        /** Discarded: the process writes to /dev/null. */
        Output NULL = new NullOutput();
        /** A pipe, read as a backpressured {@code Flux<ByteBuffer>}. */
        Output PIPE = new PipeOutput();

        /** Appended to {@code file}, which the process writes itself (created if missing, mode 0644). */
        static Output appendTo(Path file) {
            return new FileOutput(file);
        }
    }

    /** See {@link Input#NULL}. */
    public record NullInput() implements Input {
    }

    /** See {@link Input#PIPE}. */
    public record PipeInput() implements Input {
    }

    /** See {@link Output#NULL}. */
    public record NullOutput() implements Output {
    }

    /** See {@link Output#PIPE}. */
    public record PipeOutput() implements Output {
    }

    /** See {@link Output#appendTo(Path)}. @param file the file appended to, absolute after creation */
    public record FileOutput(Path file) implements Output {
        public FileOutput {
            Objects.requireNonNull(file, "file");
            file = file.toAbsolutePath();
        }
    }
}
