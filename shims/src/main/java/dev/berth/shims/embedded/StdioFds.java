package dev.berth.shims.embedded;

import dev.berth.core.Stdio;
import dev.berth.core.os.Pipe;
import dev.berth.core.os.Syscalls;
import dev.berth.core.os.Syscalls.OpenFlags;
import java.util.ArrayList;
import java.util.List;

/**
 * The descriptors of one process's stdio: the child's three (handed to spawn, then closed in the parent) and the
 * parent's ends of the pipes (-1 where a stream is not a pipe). Every descriptor is close-on-exec, so a concurrent
 * spawn never inherits another process's pipe.
 */
final class StdioFds {
    final int childIn;
    final int childOut;
    final int childErr;
    final int parentIn;
    final int parentOut;
    final int parentErr;
    private boolean childClosed;

    private StdioFds(int[] fds) {
        childIn = fds[0];
        childOut = fds[1];
        childErr = fds[2];
        parentIn = fds[3];
        parentOut = fds[4];
        parentErr = fds[5];
    }

    /** Opens what {@code stdio} asks for; on failure closes whatever it had opened. Blocks (file opens). */
    static StdioFds open(Stdio stdio, Syscalls sys) {
        List<Integer> opened = new ArrayList<>(6);
        try {
            int[] fds = {-1, -1, -1, -1, -1, -1};
            if (stdio.stdin() instanceof Stdio.PipeInput) {
                Pipe p = track(sys.pipe(), opened);
                fds[0] = p.readFd();
                fds[3] = p.writeFd();
            } else {
                fds[0] = track(sys.open("/dev/null", OpenFlags.O_RDONLY, 0), opened);
            }
            openOutput(stdio.stdout(), sys, opened, fds, 1, 4);
            openOutput(stdio.stderr(), sys, opened, fds, 2, 5);
            return new StdioFds(fds);
        } catch (RuntimeException e) {
            opened.forEach(sys::close);
            throw e;
        }
    }

    private static void openOutput(Stdio.Output output, Syscalls sys, List<Integer> opened, int[] fds, int child,
            int parent) {
        if (output instanceof Stdio.PipeOutput) {
            Pipe p = track(sys.pipe(), opened);
            fds[child] = p.writeFd();
            fds[parent] = p.readFd();
        } else if (output instanceof Stdio.FileOutput f) {
            fds[child] = track(sys.open(f.file().toString(),
                    OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_APPEND, 0644), opened);
        } else {
            fds[child] = track(sys.open("/dev/null", OpenFlags.O_WRONLY, 0), opened);
        }
    }

    private static Pipe track(Pipe p, List<Integer> opened) {
        opened.add(p.readFd());
        opened.add(p.writeFd());
        return p;
    }

    private static int track(int fd, List<Integer> opened) {
        opened.add(fd);
        return fd;
    }

    /** Closes the child's ends in the parent: after spawn, or when the process is deleted unstarted. */
    synchronized void closeChildSide(Syscalls sys) {
        if (!childClosed) {
            childClosed = true;
            sys.close(childIn);
            sys.close(childOut);
            sys.close(childErr);
        }
    }
}
