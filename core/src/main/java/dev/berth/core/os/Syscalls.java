package dev.berth.core.os;

import dev.berth.core.BerthException;
import dev.berth.core.internal.os.NativeSyscalls;

/**
 * The Linux system calls Berth's runtimes need, as one port so that logic can be tested with a fake. Every method
 * blocks for the duration of a system call: call it on {@code RuntimeSchedulers.syscalls()}, or from an event loop
 * only where the call cannot block (close, kill, a non-blocking wait). Failures are {@link BerthException}s whose
 * kind comes from errno ({@code ENOENT}/{@code ESRCH}: NOT_FOUND, {@code EACCES}/{@code EPERM}: PERMISSION_DENIED,
 * {@code EINVAL}: INVALID_ARGUMENT, {@code EAGAIN}: UNAVAILABLE, {@code EMFILE}: RESOURCE_EXHAUSTED).
 */
public interface Syscalls {
    /** The native implementation for this machine. @throws BerthException NOT_IMPLEMENTED off Linux */
    static Syscalls linux() {
        return NativeSyscalls.instance();
    }

    /** A pipe whose both ends are close-on-exec. */
    Pipe pipe();

    /**
     * Spawns a process with {@code posix_spawn}: only descriptors 0-2 reach it (everything from 3 up is closed),
     * its signal mask is empty and every signal has its default action.
     *
     * @return the pid of the new process
     * @throws BerthException NOT_FOUND if the program or cwd does not exist, PERMISSION_DENIED if it cannot be
     *     executed
     */
    int spawn(SpawnRequest request);

    /** Opens a pidfd for {@code pid} (close-on-exec); it becomes readable when the process exits. */
    int pidfdOpen(int pid);

    /**
     * Reaps {@code pid} if it has exited, without blocking.
     *
     * @return the raw wait status, or -1 if the process is still running
     */
    int waitNoHang(int pid);

    /**
     * Reads the exit of {@code pid} without reaping it ({@code waitid} with {@code WNOWAIT}): the process stays a
     * zombie, so its pid and process group id cannot be reused until {@link #waitNoHang} reaps it.
     *
     * @return the exit as a raw wait status, or -1 if the process is still running
     */
    int peekExit(int pid);

    /** Sends {@code signal} to {@code pid}; a negative pid signals the process group {@code -pid}. */
    void kill(int pid, int signal);

    /** Closes {@code fd}, ignoring EINTR as Linux requires. */
    void close(int fd);

    /** Sets O_NONBLOCK on {@code fd}. */
    void setNonBlocking(int fd);

    /** Asks for a pipe buffer of {@code bytes}; returns the size granted, or -1 if refused. */
    int setPipeSize(int fd, int bytes);

    /** Opens {@code path} with {@code flags} and {@code mode}; O_CLOEXEC is always added. */
    int open(String path, int flags, int mode);

    /** The process group of {@code pid}. */
    int processGroup(int pid);

    /**
     * Creates the FIFO {@code path} with {@code mode} (less the umask).
     *
     * @throws BerthException ALREADY_EXISTS if {@code path} exists, NOT_FOUND if its directory does not
     */
    void mkfifo(String path, int mode);

    /** {@code open(2)} flags used by Berth. */
    final class OpenFlags {
        public static final int O_RDONLY = 0;
        public static final int O_WRONLY = 1;
        public static final int O_RDWR = 2;
        public static final int O_CREAT = 0100;
        public static final int O_APPEND = 02000;
        public static final int O_NONBLOCK = 04000;

        private OpenFlags() {
        }
    }
}
