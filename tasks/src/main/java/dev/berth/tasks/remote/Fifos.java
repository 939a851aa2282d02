package dev.berth.tasks.remote;

import dev.berth.core.Errors;
import dev.berth.core.os.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The stdio FIFOs of one process (spec §4.1), made client-side as cio does: a fresh 0700 directory under the FIFO
 * root, holding {@code <id>-stdin} (only when the process reads a pipe), {@code <id>-stdout} and {@code <id>-stderr},
 * mode 0700. {@code <id>} is the container id for a task, the exec id for an exec. Blocking calls: run them on
 * {@code syscalls()}.
 */
record Fifos(Path dir, @Nullable Path stdin, Path stdout, Path stderr) {
    private static final int FIFO_MODE = 0700;

    /** Makes the directory and the FIFOs; on failure whatever was made is removed. */
    static Fifos create(Syscalls sys, Path root, String id, boolean stdin) {
        Path dir;
        try {
            Files.createDirectories(root, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            dir = Files.createTempDirectory(root, id + "-", PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            dev.berth.core.ErrorKind kind = e instanceof java.nio.file.AccessDeniedException
                    ? dev.berth.core.ErrorKind.PERMISSION_DENIED : dev.berth.core.ErrorKind.UNAVAILABLE;
            throw Errors.of(kind, e, "make a FIFO directory under %s: %s", root, e.getMessage());
        }
        Fifos fifos = new Fifos(dir, stdin ? dir.resolve(id + "-stdin") : null, dir.resolve(id + "-stdout"),
                dir.resolve(id + "-stderr"));
        try {
            for (Path fifo : fifos.all()) {
                sys.mkfifo(fifo.toString(), FIFO_MODE);
            }
        } catch (RuntimeException e) {
            try {
                fifos.remove();
            } catch (RuntimeException undo) {
                e.addSuppressed(undo);
            }
            throw e;
        }
        return fifos;
    }

    List<Path> all() {
        List<Path> all = new ArrayList<>(3);
        if (stdin != null) {
            all.add(stdin);
        }
        all.add(stdout);
        all.add(stderr);
        return all;
    }

    /** Removes the FIFOs and the directory; missing ones are fine. */
    void remove() {
        try (Stream<Path> entries = Files.exists(dir) ? Files.list(dir) : Stream.empty()) {
            for (Path p : entries.toList()) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw Errors.of(dev.berth.core.ErrorKind.INTERNAL, e, "remove FIFO directory %s: %s", dir, e.getMessage());
        }
    }
}
