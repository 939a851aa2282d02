package dev.berth.shims.internal.v2;

import static dev.berth.core.os.Syscalls.OpenFlags.O_NONBLOCK;
import static dev.berth.core.os.Syscalls.OpenFlags.O_WRONLY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ProcessSpec;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.TaskSpec;
import dev.berth.core.oci.OciSpecs;
import dev.berth.core.oci.Spec;
import dev.berth.core.os.Pipe;
import dev.berth.core.os.SpawnRequest;
import dev.berth.core.os.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

@EnabledOnOs(OS.LINUX)
class BundlesTest {
    static final Duration BOUND = Duration.ofSeconds(5);
    static final String NS = "berthtest";

    final RuntimeSchedulers schedulers = RuntimeSchedulers.forTesting(VirtualTimeScheduler.create());
    final Syscalls sys = Syscalls.linux();

    @TempDir
    Path dir;
    Path state;
    Path rootfs;

    @BeforeEach
    void layout() throws IOException {
        state = dir.resolve("state");
        rootfs = Files.createDirectories(dir.resolve("rootfs"));
    }

    @AfterEach
    void dispose() {
        schedulers.dispose();
    }

    TaskSpec task(String id) {
        return TaskSpec.builder(id, ProcessSpec.builder("/bin/sh", "-c", "echo hi").env("A", "1").cwd("/tmp").build())
                .runtime("io.containerd.runc.v2")
                .rootfs(rootfs)
                .build();
    }

    @Test
    void aBundleHasTheDefaultSpecAWorkDirNoLogFifoAndTheTaskIdAsItsName() throws IOException {
        Bundles bundles = new Bundles(state, sys, schedulers);

        Bundle bundle = await(bundles.create(NS, task("web")));

        assertThat(bundle.path()).isEqualTo(state.resolve(NS).resolve("web"));
        assertThat(bundle.path().getFileName()).hasToString("web");
        assertThat(Files.readString(bundle.config())).isEqualTo(OciSpecs.toJson(Spec.defaults(NS, "web",
                rootfs.toAbsolutePath(), List.of("/bin/sh", "-c", "echo hi"), Map.of("A", "1"), "/tmp")));
        assertThat(Files.exists(bundle.log())).as("the daemon logs into its home, not a task's bundle").isFalse();
        assertThat(Files.isDirectory(bundle.work())).isTrue();
        assertThat(mode(bundle.path()) & 0777).isEqualTo(0700);
    }

    @Test
    void aRelativeRootfsIsWrittenAbsoluteAndTheCwdDefaultsToRoot() throws IOException {
        Bundles bundles = new Bundles(state, sys, schedulers);
        Path relative = Path.of("").toAbsolutePath().relativize(rootfs);
        TaskSpec spec = TaskSpec.builder("db", ProcessSpec.of("/bin/true")).rootfs(relative).build();

        Bundle bundle = await(bundles.create(NS, spec));

        Spec written = OciSpecs.fromJson(Files.readString(bundle.config()));
        assertThat(written.root().path()).isEqualTo(rootfs.toAbsolutePath().normalize().toString());
        assertThat(written.process().cwd()).isEqualTo("/");
    }

    @Test
    void removeLeavesNothingAndIsIdempotent() throws IOException {
        Bundles bundles = new Bundles(state, sys, schedulers);
        Bundle bundle = await(bundles.create(NS, task("web")));
        await(bundles.createFifos(bundle, "web", true));
        Files.createSymbolicLink(bundle.path().resolve("rootfs"), rootfs);

        StepVerifier.create(bundles.remove(bundle)).verifyComplete();
        StepVerifier.create(bundles.remove(bundle)).verifyComplete();

        assertThat(list(state.resolve(NS))).isEmpty();
        assertThat(Files.isDirectory(rootfs)).as("a symlink is removed, not followed").isTrue();
    }

    @Test
    void aTaskWithoutRootfsIsInvalidAndCreatesNothing() {
        Bundles bundles = new Bundles(state, sys, schedulers);

        StepVerifier.create(bundles.create(NS, TaskSpec.process("web", "/bin/true")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(BOUND);
        assertThat(Files.exists(state)).isFalse();
    }

    @Test
    void aMissingRootfsIsNotFoundAndCreatesNothing() {
        Bundles bundles = new Bundles(state, sys, schedulers);
        TaskSpec spec = task("web").toBuilder().rootfs(dir.resolve("nosuch")).build();

        StepVerifier.create(bundles.create(NS, spec))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(BOUND);
        assertThat(Files.exists(state.resolve(NS).resolve("web"))).isFalse();
    }

    @Test
    void aShimHomeHasAnEmptySpecAndALogFifo() throws IOException {
        Bundles bundles = new Bundles(state, sys, schedulers);
        Bundle home = bundles.locateHome(NS, "shim-1");

        await(bundles.createHome(home).thenReturn(home));

        assertThat(home.path()).isEqualTo(state.resolve(".shims").resolve(NS).resolve("shim-1"));
        assertThat(Files.readString(home.config())).isEqualTo("{}");
        assertThat(mode(home.log()) & 0170000).as("log is a FIFO").isEqualTo(0010000);
        assertThat(mode(home.path()) & 0777).isEqualTo(0700);
        StepVerifier.create(bundles.remove(home)).verifyComplete();
        assertThat(list(state.resolve(".shims").resolve(NS))).isEmpty();
    }

    @Test
    void aHomeThatFailsHalfWayRemovesWhatItMade() throws IOException {
        Bundles bundles = new Bundles(state, new NoFifos(sys), schedulers);

        StepVerifier.create(bundles.createHome(bundles.locateHome(NS, "shim-1")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.RESOURCE_EXHAUSTED))
                .verify(BOUND);
        assertThat(list(state.resolve(".shims").resolve(NS))).isEmpty();
    }

    @Test
    void anExistingBundleIsAlreadyExistsAndLeftAlone() throws IOException {
        Bundles bundles = new Bundles(state, sys, schedulers);
        Path existing = Files.createDirectories(state.resolve(NS).resolve("web"));
        Files.writeString(existing.resolve("mine"), "x");

        StepVerifier.create(bundles.create(NS, task("web")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.ALREADY_EXISTS))
                .verify(BOUND);
        assertThat(list(existing)).containsExactly(existing.resolve("mine"));
    }

    @Test
    void anInvalidNamespaceOrIdIsInvalidArgument() {
        Bundles bundles = new Bundles(state, sys, schedulers);

        StepVerifier.create(bundles.create("../x", task("web")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(BOUND);
        StepVerifier.create(bundles.create(NS, task("web/..")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(BOUND);
        assertThat(Files.exists(dir.resolve("x"))).isFalse();
    }

    @Test
    void openLogGivesAReaderSoTheShimsWriteOpenSucceeds() {
        Bundles bundles = new Bundles(state, sys, schedulers);
        Bundle bundle = bundles.locateHome(NS, "shim-1");
        await(bundles.createHome(bundle).thenReturn(bundle));

        int reader = await(bundles.openLog(bundle));
        try {
            // With no reader, a non-blocking write-only open of a FIFO fails with ENXIO.
            int writer = sys.open(bundle.log().toString(), O_WRONLY | O_NONBLOCK, 0);
            sys.close(writer);
        } finally {
            sys.close(reader);
        }
    }

    @Test
    void stdioFifosAreMadeInTheBundleAndRemoved() throws IOException {
        Bundles bundles = new Bundles(state, sys, schedulers);
        Bundle bundle = await(bundles.create(NS, task("web")));

        StdioFifos fifos = await(bundles.createFifos(bundle, "exec1", false));

        assertThat(fifos.stdin()).isNull();
        assertThat(fifos.stdout()).isEqualTo(bundle.path().resolve("exec1-stdout"));
        assertThat(fifos.stderr()).isEqualTo(bundle.path().resolve("exec1-stderr"));
        for (Path fifo : fifos.all()) {
            assertThat(mode(fifo)).isEqualTo(0010600);
        }
        StepVerifier.create(bundles.createFifos(bundle, "exec1", true))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.ALREADY_EXISTS))
                .verify(BOUND);
        assertThat(Files.exists(bundle.path().resolve("exec1-stdin"))).as("a half-made set is undone").isFalse();
        StepVerifier.create(bundles.removeFifos(fifos)).verifyComplete();
        assertThat(fifos.all()).noneMatch(Files::exists);
    }

    static <T> T await(reactor.core.publisher.Mono<T> mono) {
        java.util.concurrent.atomic.AtomicReference<T> result = new java.util.concurrent.atomic.AtomicReference<>();
        StepVerifier.create(mono).consumeNextWith(result::set).expectComplete().verify(BOUND);
        return result.get();
    }

    static int mode(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    /** The real syscalls, except that mkfifo fails as if the disk were full. */
    record NoFifos(Syscalls real) implements Syscalls {
        @Override
        public void mkfifo(String path, int mode) {
            throw Errors.of(ErrorKind.RESOURCE_EXHAUSTED, "mkfifo %s: no space left on device", path);
        }

        @Override
        public Pipe pipe() {
            return real.pipe();
        }

        @Override
        public int spawn(SpawnRequest request) {
            return real.spawn(request);
        }

        @Override
        public int pidfdOpen(int pid) {
            return real.pidfdOpen(pid);
        }

        @Override
        public int waitNoHang(int pid) {
            return real.waitNoHang(pid);
        }

        @Override
        public int peekExit(int pid) {
            return real.peekExit(pid);
        }

        @Override
        public void kill(int pid, int signal) {
            real.kill(pid, signal);
        }

        @Override
        public void close(int fd) {
            real.close(fd);
        }

        @Override
        public void setNonBlocking(int fd) {
            real.setNonBlocking(fd);
        }

        @Override
        public int setPipeSize(int fd, int bytes) {
            return real.setPipeSize(fd, bytes);
        }

        @Override
        public int open(String path, int flags, int mode) {
            return real.open(path, flags, mode);
        }

        @Override
        public int processGroup(int pid) {
            return real.processGroup(pid);
        }
    }
}
