package dev.berth.shims.internal.v2;

import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Stdio;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import reactor.core.publisher.Mono;

/**
 * Output to a file ({@link Stdio.FileOutput}) in the v2 runtime: the shim is handed the file's plain absolute path
 * as that stream's {@code stdout}/{@code stderr} (spec §7.1), per stream, and opens it {@code O_WRONLY|O_APPEND}
 * itself, never creating it. So Berth creates it first (parent directories too, mode 0644, nothing truncated). The
 * same file for both streams is fine: the shim opens it once and shares it. {@code file://} is not used: it would
 * send both streams to the stdout file whatever stderr says.
 */
final class OutputFiles {
    private OutputFiles() {
    }

    /** What to send the shim for one output stream: the file's path, or our FIFO. */
    static String target(Stdio.Output output, Path fifo) {
        return output instanceof Stdio.FileOutput f ? f.file().toString() : fifo.toString();
    }

    /** Whether the stream is written by the shim to a file, so that we open no reader on its FIFO. */
    static boolean isFile(Stdio.Output output) {
        return output instanceof Stdio.FileOutput;
    }

    /**
     * Creates the output files {@code stdio} names, if missing.
     *
     * @return a cold Mono completing once every file exists, on {@code syscalls()}. Fails with INVALID_ARGUMENT if
     *     a path exists and is not a regular file (a FIFO would block the shim's open), or with the kind of the
     *     I/O error (PERMISSION_DENIED, NOT_FOUND...). A file created before a later failure is left: it is the
     *     caller's log, maybe shared, and empty.
     */
    static Mono<Void> prepare(Stdio stdio, RuntimeSchedulers schedulers) {
        if (!isFile(stdio.stdout()) && !isFile(stdio.stderr())) {
            return Mono.empty();
        }
        return Mono.<Void>fromRunnable(() -> {
            if (stdio.stdout() instanceof Stdio.FileOutput f) {
                create(f.file());
            }
            if (stdio.stderr() instanceof Stdio.FileOutput f) {
                create(f.file());
            }
        }).subscribeOn(schedulers.syscalls());
    }

    private static void create(Path file) {
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file)) {
            throw Errors.invalidArgument("output file %s exists and is not a regular file", file);
        }
        try {
            Path parent = file.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            // The open mode only applies when the file is created; an existing file keeps its mode and content.
            try (FileChannel ignored = FileChannel.open(file,
                    Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE, StandardOpenOption.APPEND),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")))) {
                // created, or already there
            }
        } catch (IOException e) {
            throw Bundles.ioError(e, "create output file %s", file);
        }
        if (!Files.isRegularFile(file)) {
            throw Errors.invalidArgument("output file %s is not a regular file", file);
        }
    }
}
