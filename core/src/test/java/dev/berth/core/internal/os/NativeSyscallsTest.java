package dev.berth.core.internal.os;

import static dev.berth.core.os.Syscalls.OpenFlags.O_CREAT;
import static dev.berth.core.os.Syscalls.OpenFlags.O_RDWR;
import static dev.berth.core.os.Syscalls.OpenFlags.O_WRONLY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.os.Pipe;
import dev.berth.core.os.SpawnRequest;
import dev.berth.core.os.WaitStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.LibraryLoader;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Smoke tests of the glibc binding against the real kernel. They spawn short-lived children and reap them with
 * {@code waitNoHang} in a bounded spin: this is the raw port's own test; the runtime waits on a pidfd in epoll.
 */
@EnabledOnOs(OS.LINUX)
class NativeSyscallsTest {
    static final Duration REAP_BOUND = Duration.ofSeconds(5);
    static final int O_CLOEXEC = 02000000;
    static final int O_NONBLOCK = 04000;

    final NativeSyscalls sys = NativeSyscalls.instance();
    final List<Integer> fds = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void closeDescriptors() {
        fds.forEach(sys::close);
    }

    @Test
    void pipeGivesTwoCloseOnExecDescriptors() throws IOException {
        Pipe pipe = track(sys.pipe());

        assertThat(pipe.readFd()).isNotNegative().isNotEqualTo(pipe.writeFd());
        assertThat(pipe.writeFd()).isNotNegative();
        assertThat(fdFlags(pipe.readFd()) & O_CLOEXEC).isEqualTo(O_CLOEXEC);
        assertThat(fdFlags(pipe.writeFd()) & O_CLOEXEC).isEqualTo(O_CLOEXEC);
    }

    @Test
    void setNonBlockingAndSetPipeSizeTakeEffect() throws IOException {
        Pipe pipe = track(sys.pipe());

        sys.setNonBlocking(pipe.readFd());

        assertThat(fdFlags(pipe.readFd()) & O_NONBLOCK).isEqualTo(O_NONBLOCK);
        assertThat(fdFlags(pipe.writeFd()) & O_NONBLOCK).isZero();
        assertThat(sys.setPipeSize(pipe.writeFd(), 1 << 17)).isGreaterThanOrEqualTo(1 << 17);
    }

    @Test
    void aSpawnedShellExitsWithItsCodeAndHasAPidfd() throws IOException {
        int devNull = devNull();

        int pid = sys.spawn(request(List.of("/bin/sh", "-c", "exit 3"), List.of(), null, devNull, devNull));
        int pidfd = track(sys.pidfdOpen(pid));

        assertThat(Files.readAllLines(Path.of("/proc/self/fdinfo/" + pidfd))).contains("Pid:\t" + pid);
        assertThat(reap(pid)).isEqualTo(ExitStatus.exited(3, Instant.EPOCH));
    }

    @Test
    void aReapedChildCannotBeWaitedForAgain() {
        int devNull = devNull();
        int pid = sys.spawn(request(List.of("/bin/sh", "-c", "exit 0"), List.of(), null, devNull, devNull));

        assertThat(reap(pid).isSuccess()).isTrue();

        assertThat(Errors.kindOf(catchThrowable(() -> sys.waitNoHang(pid)))).isEqualTo(ErrorKind.NOT_FOUND);
    }

    @Test
    void theChildGetsExactlyTheGivenEnvironment() throws IOException {
        Path out = dir.resolve("env");
        int devNull = devNull();
        int file = track(sys.open(out.toString(), O_WRONLY | O_CREAT, 0644));

        int pid = sys.spawn(request(List.of("/usr/bin/env"), List.of("A=1", "B=two words"), null, devNull, file));

        assertThat(reap(pid).isSuccess()).isTrue();
        assertThat(Files.readAllLines(out)).containsExactly("A=1", "B=two words");
    }

    @Test
    void theChildStartsInTheGivenWorkingDirectory() throws IOException {
        Path out = dir.resolve("pwd");
        int devNull = devNull();
        int file = track(sys.open(out.toString(), O_WRONLY | O_CREAT, 0644));

        int pid = sys.spawn(request(List.of("/bin/pwd"), List.of(), dir.toString(), devNull, file));

        assertThat(reap(pid).isSuccess()).isTrue();
        assertThat(Files.readAllLines(out)).containsExactly(dir.toRealPath().toString());
    }

    @Test
    void aMissingProgramIsNotFound() {
        int devNull = devNull();

        Throwable thrown = catchThrowable(() -> sys.spawn(request(List.of("/nonexistent/x"), List.of(), null,
                devNull, devNull)));

        assertThat(Errors.kindOf(thrown)).isEqualTo(ErrorKind.NOT_FOUND);
    }

    @Test
    void aMissingWorkingDirectoryIsNotFound() {
        int devNull = devNull();

        Throwable thrown = catchThrowable(() -> sys.spawn(request(List.of("/bin/true"), List.of(),
                dir.resolve("missing").toString(), devNull, devNull)));

        assertThat(Errors.kindOf(thrown)).isEqualTo(ErrorKind.NOT_FOUND);
    }

    @Test
    void aFileWithoutTheExecuteBitIsPermissionDenied() throws IOException {
        Path script = Files.writeString(dir.resolve("script"), "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
        int devNull = devNull();

        Throwable thrown = catchThrowable(() -> sys.spawn(request(List.of(script.toString()), List.of(), null,
                devNull, devNull)));

        assertThat(Errors.kindOf(thrown)).isEqualTo(ErrorKind.PERMISSION_DENIED);
    }

    @Test
    void theChildInheritsOnlyItsThreeStandardDescriptors() throws IOException {
        // A pipe without close-on-exec, as a careless library in the JVM might leave: only closefrom keeps it out.
        int[] leaky = new int[2];
        LibC libc = LibraryLoader.create(LibC.class).load("c");
        assertThat(libc.pipe2(leaky, 0)).isZero();
        fds.add(leaky[0]);
        fds.add(leaky[1]);
        assertThat(fdFlags(leaky[0]) & O_CLOEXEC).isZero();
        Path out = dir.resolve("fds");
        int devNull = devNull();
        int file = track(sys.open(out.toString(), O_WRONLY | O_CREAT, 0644));

        int pid = sys.spawn(request(List.of("/bin/ls", "/proc/self/fd"), List.of(), null, devNull, file));

        assertThat(reap(pid).isSuccess()).isTrue();
        // 0, 1 and 2, plus the directory ls opened to list them.
        List<String> listed = Files.readAllLines(out);
        assertThat(listed).contains("0", "1", "2").hasSizeLessThanOrEqualTo(4)
                .doesNotContain(String.valueOf(leaky[0]), String.valueOf(leaky[1]));
    }

    @Test
    void aChildSpawnedWithGroupZeroLeadsItsOwnProcessGroup() {
        int devNull = devNull();
        int pid = sys.spawn(request(List.of("/bin/sleep", "5"), List.of(), null, devNull, devNull));

        assertThat(sys.processGroup(pid)).isEqualTo(pid);
        assertThat(sys.processGroup(0)).isNotEqualTo(pid);
        assertThat(sys.waitNoHang(pid)).isEqualTo(-1);

        sys.kill(-pid, 9);

        assertThat(reap(pid)).isEqualTo(ExitStatus.signaled(9, Instant.EPOCH));
    }

    @Test
    void mkfifoMakesAFifoThatAReadWriteOpenDoesNotBlockOn() throws IOException {
        Path fifo = dir.resolve("log");

        sys.mkfifo(fifo.toString(), 0600);
        int fd = sys.open(fifo.toString(), O_RDWR | O_NONBLOCK, 0);
        fds.add(fd);

        assertThat((Integer) Files.getAttribute(fifo, "unix:mode") & 0170000).isEqualTo(0010000);
        assertThat((Integer) Files.getAttribute(fifo, "unix:mode") & 0777).isEqualTo(0600);
        assertThat(Errors.kindOf(catchThrowable(() -> sys.mkfifo(fifo.toString(), 0600))))
                .isEqualTo(ErrorKind.ALREADY_EXISTS);
        assertThat(Errors.kindOf(catchThrowable(() -> sys.mkfifo(dir.resolve("no/log").toString(), 0600))))
                .isEqualTo(ErrorKind.NOT_FOUND);
    }

    @Test
    void errnoFromAFailedCallGivesTheKind() {
        int noSuchPid = Integer.MAX_VALUE;

        assertThat(Errors.kindOf(catchThrowable(() -> sys.kill(noSuchPid, 0)))).isEqualTo(ErrorKind.NOT_FOUND);
        assertThat(Errors.kindOf(catchThrowable(() -> sys.open(dir.resolve("none").toString(), O_RDWR, 0))))
                .isEqualTo(ErrorKind.NOT_FOUND);
        assertThat(Errors.kindOf(catchThrowable(() -> sys.open(dir.toString(), O_WRONLY, 0))))
                .isEqualTo(ErrorKind.PERMISSION_DENIED);
        assertThat(Errors.kindOf(catchThrowable(() -> sys.waitNoHang(1)))).isEqualTo(ErrorKind.NOT_FOUND);
        assertThat(Errors.kindOf(catchThrowable(() -> sys.kill(1, 99)))).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    }

    SpawnRequest request(List<String> argv, List<String> envp, @Nullable String cwd, int stdin, int stdout) {
        return new SpawnRequest(argv.get(0), argv, envp, cwd, stdin, stdout, stdin, 0);
    }

    int devNull() {
        return track(sys.open("/dev/null", O_RDWR, 0));
    }

    int track(int fd) {
        fds.add(fd);
        return fd;
    }

    Pipe track(Pipe pipe) {
        fds.add(pipe.readFd());
        fds.add(pipe.writeFd());
        return pipe;
    }

    /** Reaps {@code pid} within {@link #REAP_BOUND}; a bounded spin is enough for these short-lived children. */
    ExitStatus reap(int pid) {
        long deadline = System.nanoTime() + REAP_BOUND.toNanos();
        while (System.nanoTime() < deadline) {
            int raw = sys.waitNoHang(pid);
            if (raw != -1) {
                return WaitStatus.decode(raw, Instant.EPOCH);
            }
            Thread.onSpinWait();
        }
        sys.kill(pid, 9);
        throw new AssertionError("pid " + pid + " did not exit within " + REAP_BOUND);
    }

    /** The file status flags of one of this JVM's descriptors, from /proc/self/fdinfo (octal). */
    static int fdFlags(int fd) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd)).stream()
                .filter(line -> line.startsWith("flags:"))
                .map(line -> Integer.parseInt(line.substring("flags:".length()).trim(), 8))
                .findFirst()
                .orElseThrow();
    }
}
