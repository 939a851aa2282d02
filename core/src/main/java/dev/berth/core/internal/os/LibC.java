package dev.berth.core.internal.os;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.byref.IntByReference;

/** The glibc functions Berth binds directly (glibc 2.34 or later, for {@code addclosefrom_np}). */
@SaveError
public interface LibC {
    int posix_spawn_file_actions_init(Pointer actions);

    int posix_spawn_file_actions_destroy(Pointer actions);

    int posix_spawn_file_actions_adddup2(Pointer actions, int fd, int newFd);

    int posix_spawn_file_actions_addclosefrom_np(Pointer actions, int from);

    int posix_spawn_file_actions_addchdir_np(Pointer actions, String path);

    int posix_spawnattr_init(Pointer attr);

    int posix_spawnattr_destroy(Pointer attr);

    int posix_spawnattr_setflags(Pointer attr, short flags);

    int posix_spawnattr_setpgroup(Pointer attr, int pgroup);

    int posix_spawnattr_setsigmask(Pointer attr, Pointer sigset);

    int posix_spawnattr_setsigdefault(Pointer attr, Pointer sigset);

    int sigemptyset(Pointer set);

    int sigfillset(Pointer set);

    /** Returns 0 or an errno value; it does not set errno. argv and envp end with a null element. */
    int posix_spawn(IntByReference pid, String path, Pointer actions, Pointer attr, String[] argv, String[] envp);

    int pipe2(@Out int[] fds, int flags);

    int pidfd_open(int pid, int flags);

    int waitpid(int pid, @Out int[] status, int options);

    int waitid(int idType, int id, Pointer siginfo, int options);

    int kill(int pid, int signal);

    int close(int fd);

    int fcntl(int fd, int cmd, int arg);

    int open(String path, int flags, int mode);

    int getpgid(int pid);

    int mkfifo(String path, int mode);

    String strerror(int errno);
}
