package dev.berth.shims.internal.v2;

import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Stdio;
import dev.berth.core.os.Syscalls;
import dev.berth.core.os.Syscalls.OpenFlags;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The init's stdout and stderr read by Berth straight from the container's pipes, with no copy in the shim
 * (issue #4). With a FIFO target the shim copies the container's pipe into the FIFO, and that copy caps the
 * throughput. With {@code binary://<script>?pidfile=<file>} as both targets, containerd-shim-runc-v2 (1.6,
 * {@code NewBinaryIO}) instead makes two pipes, starts {@code <script> pidfile <file>} with fd 3 = the stdout pipe's
 * read end, fd 4 = the stderr one, fd 5 = a "ready" pipe, waits for fd 5 to close, and hands the write ends to
 * {@code runc create}. Our script (see {@link #SCRIPT}) writes its pid to the pid file, closes fd 5 and becomes a
 * sleeper holding fds 3 and 4; once Create has answered, Berth reopens {@code /proc/<pid>/fd/3} and {@code 4} (a
 * pipe reopened through /proc is the same pipe: root may do it) and reads them as any pipe.
 *
 * <p>The sleeper is left to the shim, which SIGTERMs and reaps it at the process's io Close (at Delete). Killing it
 * sooner would free its pid while the shim still means to signal it at Delete: with a pid_max of 32768, another
 * process may have the pid by then. It costs one sleeping shell per live task and no other process: the script
 * blocks opening a FIFO nobody writes ({@link #HOLD}), which SIGTERM ends. Where the shim never closes that io,
 * Berth stops the sleeper itself: after a failed Create ({@link #stopNow}; the pooled daemon stays) and after the
 * shim's loss, when the sleeper has been re-parented ({@link #stopOrphanNow}, from {@link DeadShimCleanup}). After a
 * restart, a restored task's pipes are reopened through the same sleeper ({@code Adopter}).
 *
 * <p>The shim keeps the pipes' write ends until Delete, so no end of file comes at the exit: the streams are read
 * with {@link dev.berth.io.IoLoop#outputUntilEmpty}, which ends at the first empty read after the exit. That is
 * right for the init only: its exit kills its whole PID namespace, so no writer is left. An exec's children may
 * outlive it, so execs keep their FIFOs; and the binary scheme carries no stdin, so a task with a stdin pipe keeps
 * them too, as does one with an output to a file.
 */
final class StdoutHandoff {
    private static final Logger log = LoggerFactory.getLogger(StdoutHandoff.class);
    /** Turns the handoff off ({@code -Dberth.shims.v2.stdoutHandoff=false}): every output then goes through FIFOs. */
    static final String PROPERTY = "berth.shims.v2.stdoutHandoff";
    /** Where the script is installed, under the state directory (a dot-name: never a namespace). */
    static final String SCRIPT_PATH = ".bin/stdio-handoff";
    /** The pid file in the bundle. */
    static final String PID_FILE = "stdio-handoff.pid";
    /** The capacity given to the init's stdout pipe once it is ours. */
    static final int STDOUT_PIPE_SIZE = 256 * 1024;
    /** The read end of the container's stdout is the script's fd 3, stderr's its fd 4 ({@code NewBinaryIO}). */
    static final int STDOUT_FD = 3;
    static final int STDERR_FD = 4;

    /**
     * The script the shim runs. The shim gives it CONTAINER_ID and CONTAINER_NAMESPACE and no PATH, so every
     * command is absolute. The pid is written before fd 5 closes: when Create answers, the file is complete.
     */
    static final String SCRIPT = """
            #!/bin/sh
            # Written by Berth (StdoutHandoff); run by containerd-shim-runc-v2 as a binary:// logger with
            # fd 3 = the container's stdout (read end), fd 4 = its stderr, fd 5 = ready. Berth reopens fds 3 and 4
            # through /proc/<pid>/fd; this process only keeps its pid until the shim SIGTERMs it at Delete.
            [ "$1" = pidfile ] && [ -n "$2" ] || exit 2
            echo $$ > "$2" || exit 1
            exec 5>&-
            # Keep this pid (and fds 3 and 4) until the shim's SIGTERM at Delete, without another process:
            # opening a FIFO that nobody writes blocks for good.
            read -r _ < "${0%/*}/hold"
            exec /bin/sleep 2147483647
            """;
    /** The FIFO the script blocks on, next to it; nobody ever opens it for writing. */
    static final String HOLD = "hold";

    private final boolean enabled;
    private final Path script;
    private final Syscalls sys;
    private final RuntimeSchedulers schedulers;
    private volatile boolean installed;

    StdoutHandoff(Path state, Syscalls sys, RuntimeSchedulers schedulers) {
        this(state, sys, schedulers, true);
    }

    /** @param enabled whether new tasks get the handoff; a restored task that has it is read through it anyway */
    StdoutHandoff(Path state, Syscalls sys, RuntimeSchedulers schedulers, boolean enabled) {
        this.enabled = enabled;
        this.script = state.resolve(SCRIPT_PATH);
        this.sys = sys;
        this.schedulers = schedulers;
    }

    /** Whether it is on: unless {@link #PROPERTY} is {@code false}. */
    static boolean enabledByDefault() {
        return !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "true"));
    }

    /** Whether an init with {@code stdio} takes the handoff: it is on, no stdin pipe and no output to a file. */
    boolean appliesTo(Stdio stdio) {
        return enabled && !(stdio.stdin() instanceof Stdio.PipeInput) && !(stdio.stdout() instanceof Stdio.FileOutput)
                && !(stdio.stderr() instanceof Stdio.FileOutput);
    }

    /**
     * Installs the script (mode 0755), once per manager; rewritten if its content differs.
     *
     * @return a cold Mono completing when the script is in place, on {@code syscalls()}
     */
    Mono<Void> install() {
        return Mono.<Void>fromRunnable(() -> {
            if (!installed) {
                installNow();
            }
        }).subscribeOn(schedulers.syscalls());
    }

    private synchronized void installNow() {
        if (installed) {
            return;
        }
        try {
            boolean current = Files.isRegularFile(script) && Files.isExecutable(script)
                    && Files.readString(script).equals(SCRIPT);
            if (!current) {
                Files.createDirectories(script.getParent(),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                Path tmp = Files.createTempFile(script.getParent(), ".stdio-handoff", ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
                try {
                    Files.writeString(tmp, SCRIPT);
                    // A rename, never a rewrite in place: a shim may be executing the old one (ETXTBSY).
                    Files.move(tmp, script, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    Files.deleteIfExists(tmp);
                }
                log.debug("installed {}", script);
            }
            Path hold = script.resolveSibling(HOLD);
            if (!Files.exists(hold, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                sys.mkfifo(hold.toString(), 0600);
            }
            installed = true;
        } catch (IOException e) {
            throw Bundles.ioError(e, "install %s", script);
        }
    }

    /**
     * The {@code stdout} and {@code stderr} of the CreateTaskRequest: {@code binary://<script>?pidfile=<file>}.
     * Go's {@code url.Parse} decodes the path and the query, so both are percent-encoded here.
     */
    String target(Bundle bundle) {
        StringBuilder path = new StringBuilder();
        for (Path part : script) {
            path.append('/').append(encode(part.toString()));
        }
        return "binary://" + path + "?pidfile=" + encode(pidFile(bundle).toString());
    }

    private static String encode(String s) {
        // Form encoding writes a space as '+'; %20 reads back as a space in a path and a query alike.
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static Path pidFile(Bundle bundle) {
        return bundle.path().resolve(PID_FILE);
    }

    /**
     * After a successful Create (or when a restore finds the task): opens our read ends of the init's stdout and
     * stderr through the sleeper's {@code /proc/<pid>/fd}. Blocking file work: call it on {@code syscalls()}. The
     * caller owns both descriptors (close-on-exec).
     *
     * @param shimPid the shim daemon, which must be the sleeper's parent (so a reused pid is never taken for it)
     * @return {stdout fd, stderr fd}
     * @throws dev.berth.core.BerthException INTERNAL if the script left no pid, if that process is not the shim's
     *     child or its descriptors are not pipes (it is gone, say); nothing stays open then
     */
    int[] openNow(Bundle bundle, int shimPid) {
        int pid = readPid(bundle);
        int parent = parentOf(pid);
        if (parent != shimPid) {
            throw Errors.internal("the stdio handoff's pid %d has parent %d, not the shim %d", pid, parent,
                    shimPid);
        }
        int out = openPipe(pid, STDOUT_FD);
        // 64 KiB, the default, makes a writer of 64 KiB blocks wait for the reader after every block: 256 KiB
        // more than doubles the rate (see benchmarks/README.md). A refusal (limits) keeps the default.
        sys.setPipeSize(out, STDOUT_PIPE_SIZE);
        try {
            return new int[] {out, openPipe(pid, STDERR_FD)};
        } catch (RuntimeException e) {
            sys.close(out);
            throw e;
        }
    }

    /**
     * After a failed Create: the shim never closes that process's io, so its sleeper would live as long as the
     * (pooled) daemon. SIGKILLs it if the pid file names a child of {@code shimPid} (the daemon reaps it). No pid
     * file, or another parent: nothing to do. Blocking file work: call it on {@code syscalls()}. Never throws.
     */
    void stopNow(Bundle bundle, int shimPid) {
        try {
            if (!Files.exists(pidFile(bundle))) {
                return;
            }
            int pid = readPid(bundle);
            if (parentOf(pid) == shimPid) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(StdoutHandoff.class)
                    .warn("[{}/{}] stopping the stdio handoff's sleeper failed", bundle.namespace(), bundle.id(), e);
        }
    }

    /**
     * After the loss of the shim that started it: SIGKILLs the task's sleeper if it is still there (it outlives its
     * shim: it was re-parented). Only a process running this script (its command line names it) is killed. Blocking
     * file work: call it on {@code syscalls()}. Never throws.
     */
    static void stopOrphanNow(Bundle bundle) {
        Path file = pidFile(bundle);
        try {
            if (!Files.exists(file)) {
                return;
            }
            int pid = readPid(bundle);
            Path cmdline = Path.of("/proc", Integer.toString(pid), "cmdline");
            String command = Files.exists(cmdline) ? new String(Files.readAllBytes(cmdline),
                    java.nio.charset.StandardCharsets.UTF_8) : "";
            if (command.contains(SCRIPT_PATH.toString())) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        } catch (IOException | RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(StdoutHandoff.class)
                    .warn("[{}/{}] stopping an orphaned stdio sleeper failed", bundle.namespace(), bundle.id(), e);
        }
    }

    /** Whether {@code target}, the stdout a shim reports for a task (State), is a binary:// logger: ours. */
    static boolean isHandoff(String target) {
        return target.startsWith("binary://");
    }

    private static int readPid(Bundle bundle) {
        Path file = pidFile(bundle);
        try {
            return Integer.parseInt(Files.readString(file).strip());
        } catch (NoSuchFileException e) {
            throw Errors.internal("the stdio handoff of %s/%s left no pid in %s", bundle.namespace(), bundle.id(),
                    file);
        } catch (IOException | NumberFormatException e) {
            throw Errors.of(dev.berth.core.ErrorKind.INTERNAL, e, "read the stdio handoff's pid from %s", file);
        }
    }

    /** The parent pid of {@code pid} from {@code /proc/<pid>/stat}, or -1 if there is no such process. */
    private static int parentOf(int pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
        } catch (NoSuchFileException e) {
            return -1;
        } catch (IOException e) {
            throw Bundles.ioError(e, "read /proc/%d/stat", pid);
        }
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(fields[1]);
    }

    /** Reopens {@code /proc/<pid>/fd/<fd>}, checking that it is the same pipe afterwards (not a reused pid's). */
    private int openPipe(int pid, int fd) {
        Path link = Path.of("/proc", Integer.toString(pid), "fd", Integer.toString(fd));
        int ours = sys.open(link.toString(), OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK, 0);
        try {
            String theirs = Files.readSymbolicLink(link).toString();
            String mine = Files.readSymbolicLink(Path.of("/proc/self/fd", Integer.toString(ours))).toString();
            if (!theirs.startsWith("pipe:") || !theirs.equals(mine)) {
                throw Errors.internal("%s is %s, not the pipe the stdio handoff holds", link, theirs);
            }
            return ours;
        } catch (IOException | RuntimeException e) {
            sys.close(ours);
            throw e instanceof IOException io ? Bundles.ioError(io, "check %s", link) : (RuntimeException) e;
        }
    }
}
