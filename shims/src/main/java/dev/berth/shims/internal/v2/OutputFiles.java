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
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import reactor.core.publisher.Mono;

/**
 * Output to a file ({@link Stdio.FileOutput}) in the v2 runtime: the shim is handed the file's plain absolute path
 * as that stream's {@code stdout}/{@code stderr} (spec §7.1), per stream, and opens it {@code O_WRONLY|O_APPEND}
 * itself, never creating it. So Berth creates it first (parent directories too, mode 0644, nothing truncated). A
 * file for one stream and a pipe for the other works too. The shim copies through a pipe of its own, so at the exit
 * the file may still be missing the last output: the process's Delete waits (up to 2 s, in the shim) for the copy.
 *
 * <p>One file for both streams: given the same string for both, the 1.6 shim opens the file once and shares the
 * descriptor, but the stdout copy closes it when stdout ends, so stderr written after that is lost (seen:
 * {@code exec 1>&-; echo err >&2}). {@code file://} takes the same path in the shim. So stderr gets the file under
 * another spelling ({@code <dir>/./<name>}): the shim then opens it twice, each stream has its own
 * {@code O_APPEND} descriptor, and lines of the two streams interleave in no guaranteed order (each stream keeps
 * its own). Verified with containerd-shim-runc-v2 1.6.20, init and exec (DeadShimTest).
 */
final class OutputFiles {
    private OutputFiles() {
    }

    /** What to send the shim as {@code stdout}: the file's path, or our FIFO. */
    static String stdoutTarget(Stdio stdio, Path fifo) {
        return stdio.stdout() instanceof Stdio.FileOutput f ? f.file().toString() : fifo.toString();
    }

    /** What to send the shim as {@code stderr}: the file's path (spelt apart from stdout's if equal), or our FIFO. */
    static String stderrTarget(Stdio stdio, Path fifo) {
        if (!(stdio.stderr() instanceof Stdio.FileOutput err)) {
            return fifo.toString();
        }
        Path file = err.file();
        if (stdio.stdout() instanceof Stdio.FileOutput out && out.file().equals(file) && file.getParent() != null) {
            return file.getParent() + "/./" + file.getFileName();
        }
        return file.toString();
    }

    /** Whether the stream is written by the shim to a file, so that we open no reader on its FIFO. */
    static boolean isFile(Stdio.Output output) {
        return output instanceof Stdio.FileOutput;
    }

    /**
     * Creates the output files {@code stdio} names, if missing.
     *
     * @return a cold Mono emitting the files this call created (empty list if none), once every file exists, on
     *     {@code syscalls()}; a create that fails later undoes them with {@link #removeCreated}. Fails with
     *     INVALID_ARGUMENT if a path exists and is not a regular file (a FIFO would block the shim's open), or with
     *     the kind of the I/O error (PERMISSION_DENIED, NOT_FOUND...), after removing what it created.
     */
    static Mono<List<Path>> prepare(Stdio stdio, RuntimeSchedulers schedulers) {
        if (!isFile(stdio.stdout()) && !isFile(stdio.stderr())) {
            return Mono.just(List.of());
        }
        return Mono.fromCallable(() -> {
            List<Path> created = new ArrayList<>(2);
            try {
                for (Stdio.Output output : List.of(stdio.stdout(), stdio.stderr())) {
                    if (output instanceof Stdio.FileOutput f && create(f.file())) {
                        created.add(f.file());
                    }
                }
                return List.copyOf(created);
            } catch (RuntimeException e) {
                removeNow(created, e);
                throw e;
            }
        }).subscribeOn(schedulers.syscalls());
    }

    /**
     * Undoes {@link #prepare}: removes the files it created, if still empty (a process may have written to one).
     * Parent directories it made stay.
     *
     * @return a cold Mono completing when done, on {@code syscalls()}
     */
    static Mono<Void> removeCreated(List<Path> created, RuntimeSchedulers schedulers) {
        if (created.isEmpty()) {
            return Mono.empty();
        }
        return Mono.<Void>fromRunnable(() -> {
            RuntimeException failure = Errors.internal("remove output files %s", created);
            removeNow(created, failure);
            if (failure.getSuppressed().length > 0) {
                throw failure;
            }
        }).subscribeOn(schedulers.syscalls());
    }

    private static void removeNow(List<Path> created, RuntimeException failures) {
        for (Path file : created) {
            try {
                if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && Files.size(file) == 0) {
                    Files.deleteIfExists(file);
                }
            } catch (IOException e) {
                failures.addSuppressed(e);
            }
        }
    }

    /** @return whether the file was created by this call */
    private static boolean create(Path file) {
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw Errors.invalidArgument("output file %s exists and is not a regular file", file);
        }
        boolean created;
        try {
            Path parent = file.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            created = !Files.exists(file, LinkOption.NOFOLLOW_LINKS);
            // The mode only applies to a new file; an existing one keeps its mode and content (never truncated).
            try (FileChannel ignored = FileChannel.open(file,
                    Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE, StandardOpenOption.APPEND),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")))) {
                // created, or already there
            }
        } catch (IOException e) {
            throw Bundles.ioError(e, "create output file %s", file);
        }
        return created;
    }
}
