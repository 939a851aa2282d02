package dev.berth.shims.internal.v2;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The one-owner-at-a-time lock of a state directory: an exclusive {@code flock}-style lock on {@code <state>/.lock},
 * holding the owner's pid for the message a second owner gets. The kernel drops it when the owner's process dies, so
 * a SIGKILLed owner never leaves a stale lock. Acquiring and releasing are blocking file calls: run them on
 * {@code syscalls()}.
 */
final class StateLock implements AutoCloseable {
    /** Not a valid namespace (those start with a letter or digit), so it never collides with a bundle directory. */
    static final String FILE = ".lock";

    private final Path path;
    private final FileChannel channel;
    private final FileLock lock;

    private StateLock(Path path, FileChannel channel, FileLock lock) {
        this.path = path;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock of {@code state}, creating the directory (0700 via its parent's umask) if needed.
     *
     * @throws dev.berth.core.BerthException FAILED_PRECONDITION when another owner holds it (in this process or
     *     another), naming that owner's pid; PERMISSION_DENIED when the directory may not be written; UNAVAILABLE
     *     when the file cannot be opened otherwise
     */
    static StateLock acquire(Path state) {
        Path path = state.resolve(FILE);
        FileChannel channel = null;
        try {
            Files.createDirectories(state);
            channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // held by this JVM already
            }
            if (lock == null) {
                String owner = readOwner(channel);
                channel.close();
                throw Errors.failedPrecondition("state directory %s is owned by another Berth service (pid %s); "
                        + "close it first, or use another state directory", state, owner);
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid())
                    .getBytes(StandardCharsets.US_ASCII)), 0);
            return new StateLock(path, channel, lock);
        } catch (IOException e) {
            closeQuietly(channel);
            ErrorKind kind = e instanceof java.nio.file.AccessDeniedException ? ErrorKind.PERMISSION_DENIED
                    : ErrorKind.UNAVAILABLE;
            throw Errors.of(kind, e, "cannot lock state directory %s: %s", state, e);
        }
    }

    private static String readOwner(FileChannel channel) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(32);
            channel.read(buffer, 0);
            String pid = new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII).strip();
            return pid.isEmpty() ? "unknown" : pid;
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the open failed or the lock was refused: nothing held
            }
        }
    }

    Path path() {
        return path;
    }

    /** Releases the lock; the file stays (removing it would race with a new owner that opened it already). */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it anyway
        }
        closeQuietly(channel);
    }
}
