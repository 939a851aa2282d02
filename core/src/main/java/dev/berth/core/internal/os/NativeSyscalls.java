package dev.berth.core.internal.os;

import dev.berth.core.Errors;
import dev.berth.core.os.Pipe;
import dev.berth.core.os.SpawnRequest;
import dev.berth.core.os.Syscalls;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.byref.IntByReference;

/** {@link Syscalls} through a direct jnr-ffi binding of glibc. */
public final class NativeSyscalls implements Syscalls {
    private static final int O_CLOEXEC = 02000000;
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int F_SETPIPE_SZ = 1031;
    private static final int WNOHANG = 1;
    private static final int WEXITED = 4;
    private static final int WNOWAIT = 0x01000000;
    private static final int P_PID = 1;
    // siginfo_t for SIGCHLD on Linux (64-bit): si_code at 8, si_pid at 16, si_status at 24; 128 bytes in all.
    private static final int SIGINFO_SIZE = 128;
    private static final int SI_CODE_OFFSET = 8;
    private static final int SI_PID_OFFSET = 16;
    private static final int SI_STATUS_OFFSET = 24;
    private static final int CLD_EXITED = 1;
    private static final int CLD_DUMPED = 3;
    private static final short POSIX_SPAWN_SETPGROUP = 0x02;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    // glibc's opaque types are 80 (file actions), 336 (attributes) and 128 (sigset_t) bytes on x86_64 and aarch64.
    private static final int ACTIONS_SIZE = 256;
    private static final int ATTR_SIZE = 512;
    private static final int SIGSET_SIZE = 128;

    private static volatile NativeSyscalls instance;

    private final LibC libc;
    private final Runtime runtime;

    private NativeSyscalls(LibC libc) {
        this.libc = libc;
        this.runtime = Runtime.getRuntime(libc);
    }

    /** The process-wide instance, loaded on first use. */
    public static NativeSyscalls instance() {
        NativeSyscalls local = instance;
        if (local == null) {
            synchronized (NativeSyscalls.class) {
                local = instance;
                if (local == null) {
                    if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
                        throw Errors.notImplemented("Berth's native runtime needs Linux, not %s",
                                System.getProperty("os.name"));
                    }
                    local = new NativeSyscalls(LibraryLoader.create(LibC.class).load("c"));
                    instance = local;
                }
            }
        }
        return local;
    }

    @Override
    public Pipe pipe() {
        int[] fds = new int[2];
        check(libc.pipe2(fds, O_CLOEXEC), "pipe2");
        return new Pipe(fds[0], fds[1]);
    }

    @Override
    public int spawn(SpawnRequest request) {
        Pointer actions = Memory.allocateDirect(runtime, ACTIONS_SIZE);
        Pointer attr = Memory.allocateDirect(runtime, ATTR_SIZE);
        Pointer empty = Memory.allocateDirect(runtime, SIGSET_SIZE);
        Pointer all = Memory.allocateDirect(runtime, SIGSET_SIZE);
        checkRc(libc.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
        try {
            checkRc(libc.posix_spawnattr_init(attr), "posix_spawnattr_init");
            try {
                // The three targets are dup2'ed first; dup2 clears close-on-exec on 0-2 only.
                checkRc(libc.posix_spawn_file_actions_adddup2(actions, request.stdin(), 0), "adddup2 stdin");
                checkRc(libc.posix_spawn_file_actions_adddup2(actions, request.stdout(), 1), "adddup2 stdout");
                checkRc(libc.posix_spawn_file_actions_adddup2(actions, request.stderr(), 2), "adddup2 stderr");
                // Nothing of the JVM's reaches the child: jars, sockets, other tasks' pipes.
                checkRc(libc.posix_spawn_file_actions_addclosefrom_np(actions, 3), "addclosefrom_np");
                if (request.cwd() != null) {
                    checkRc(libc.posix_spawn_file_actions_addchdir_np(actions, request.cwd()), "addchdir_np");
                }
                libc.sigemptyset(empty);
                libc.sigfillset(all);
                checkRc(libc.posix_spawnattr_setsigmask(attr, empty), "setsigmask");
                // A JVM started in the background ignores SIGINT/SIGQUIT; its tasks must not inherit that.
                checkRc(libc.posix_spawnattr_setsigdefault(attr, all), "setsigdefault");
                checkRc(libc.posix_spawnattr_setpgroup(attr, request.processGroup()), "setpgroup");
                checkRc(libc.posix_spawnattr_setflags(attr,
                        (short) (POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)),
                        "setflags");
                IntByReference pid = new IntByReference();
                int rc = libc.posix_spawn(pid, request.program(), actions, attr,
                        nullTerminated(request.argv()), nullTerminated(request.envp()));
                if (rc != 0) {
                    throw Errno.toException(rc, libc.strerror(rc), "spawn %s", request.program());
                }
                return pid.intValue();
            } finally {
                libc.posix_spawnattr_destroy(attr);
            }
        } finally {
            libc.posix_spawn_file_actions_destroy(actions);
        }
    }

    @Override
    public int pidfdOpen(int pid) {
        // pidfd_open always sets close-on-exec on the new descriptor.
        return check(libc.pidfd_open(pid, 0), "pidfd_open(%d)", pid);
    }

    @Override
    public int waitNoHang(int pid) {
        int[] status = new int[1];
        int rc;
        do {
            rc = libc.waitpid(pid, status, WNOHANG);
        } while (rc < 0 && errno() == Errno.EINTR);
        check(rc, "waitpid(%d)", pid);
        return rc == 0 ? -1 : status[0];
    }

    @Override
    public int peekExit(int pid) {
        Pointer siginfo = Memory.allocateDirect(runtime, SIGINFO_SIZE);
        siginfo.setMemory(0, SIGINFO_SIZE, (byte) 0);
        int rc;
        do {
            rc = libc.waitid(P_PID, pid, siginfo, WEXITED | WNOHANG | WNOWAIT);
        } while (rc < 0 && errno() == Errno.EINTR);
        check(rc, "waitid(%d)", pid);
        if (siginfo.getInt(SI_PID_OFFSET) == 0) {
            return -1;
        }
        int code = siginfo.getInt(SI_CODE_OFFSET);
        int status = siginfo.getInt(SI_STATUS_OFFSET);
        return switch (code) {
            case CLD_EXITED -> (status & 0xff) << 8;
            case CLD_DUMPED -> (status & 0x7f) | 0x80;
            default -> status & 0x7f;
        };
    }

    @Override
    public void kill(int pid, int signal) {
        check(libc.kill(pid, signal), "kill(%d, %d)", pid, signal);
    }

    @Override
    public void close(int fd) {
        // Linux frees the descriptor even when close reports EINTR: never retry.
        libc.close(fd);
    }

    @Override
    public void setNonBlocking(int fd) {
        int flags = check(libc.fcntl(fd, F_GETFL, 0), "fcntl(%d, F_GETFL)", fd);
        check(libc.fcntl(fd, F_SETFL, flags | OpenFlags.O_NONBLOCK), "fcntl(%d, F_SETFL)", fd);
    }

    @Override
    public int setPipeSize(int fd, int bytes) {
        return libc.fcntl(fd, F_SETPIPE_SZ, bytes);
    }

    @Override
    public int open(String path, int flags, int mode) {
        return check(libc.open(path, flags | O_CLOEXEC, mode), "open %s", path);
    }

    @Override
    public int processGroup(int pid) {
        return check(libc.getpgid(pid), "getpgid(%d)", pid);
    }

    @Override
    public void mkfifo(String path, int mode) {
        check(libc.mkfifo(path, mode), "mkfifo %s", path);
    }

    private int errno() {
        return LastError.getLastError(runtime);
    }

    private int check(int rc, String format, Object... args) {
        if (rc < 0) {
            int errno = errno();
            throw Errno.toException(errno, libc.strerror(errno), format, args);
        }
        return rc;
    }

    private void checkRc(int rc, String what) {
        if (rc != 0) {
            throw Errno.toException(rc, libc.strerror(rc), what);
        }
    }

    private static String[] nullTerminated(java.util.List<String> values) {
        String[] array = values.toArray(new String[values.size() + 1]);
        array[values.size()] = null;
        return array;
    }
}
