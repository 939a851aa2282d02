package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ProcessSpec;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.TaskSpec;
import dev.berth.core.os.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

@EnabledOnOs(OS.LINUX)
class ShimStartTest {
    static final Duration BOUND = Duration.ofSeconds(5);
    static final String NS = "berthtest";
    static final String EVENTS = "/run/berth-test/events.sock";
    static final String PATH = "/usr/bin:/bin:/usr/sbin:/sbin";

    final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    final RuntimeSchedulers schedulers = RuntimeSchedulers.forTesting(time);

    @TempDir
    Path dir;
    Path state;
    Bundle bundle;

    @BeforeEach
    void bundle() throws IOException {
        state = dir.resolve("state");
        Path rootfs = Files.createDirectories(dir.resolve("rootfs"));
        bundle = BundlesTest.await(new Bundles(state, Syscalls.linux(), schedulers)
                .create(NS, TaskSpec.builder("web", ProcessSpec.of("/bin/true")).rootfs(rootfs).build()));
    }

    @AfterEach
    void dispose() {
        schedulers.dispose();
        time.dispose();
    }

    ShimStart shimStart(Path binary, boolean debug, Duration timeout) {
        return new ShimStart(new ShimStart.Config(binary, ShimStart.privateAddress(state), EVENTS, PATH,
                Map.of("HOME", "/root", "PATH", "/ignored", "TTRPC_ADDRESS", "/ignored"), "", debug, timeout),
                schedulers);
    }

    @Test
    void startArgvHasTheFlagsOfSpec32AndTheActionWordLast() {
        ShimStart start = shimStart(Path.of("/usr/bin/containerd-shim-runc-v2"), false, ShimStart.DEFAULT_TIMEOUT);

        assertThat(start.startCommand(bundle)).containsExactly("/usr/bin/containerd-shim-runc-v2",
                "-namespace", NS, "-address", state.toString(), "-publish-binary", "", "-id", "web", "start");
        assertThat(shimStart(Path.of("/s"), true, ShimStart.DEFAULT_TIMEOUT).startCommand(bundle))
                .containsExactly("/s", "-namespace", NS, "-address", state.toString(), "-publish-binary", "",
                        "-id", "web", "-debug", "start");
    }

    @Test
    void deleteArgvAddsTheBundleFlagAndEndsWithDelete() {
        ShimStart start = shimStart(Path.of("/s"), false, ShimStart.DEFAULT_TIMEOUT);

        assertThat(start.deleteCommand(bundle)).containsExactly("/s", "-namespace", NS, "-address",
                state.toString(), "-publish-binary", "", "-id", "web", "-bundle", bundle.path().toString(),
                "delete");
    }

    @Test
    void theAddressIsPrivateToTheStateDirectoryAndNotContainerds() {
        assertThat(ShimStart.privateAddress(state)).isEqualTo(state.toAbsolutePath().toString())
                .isNotEqualTo("/run/containerd/containerd.sock")
                .isNotEqualTo(ShimStart.privateAddress(dir.resolve("other")));
    }

    @Test
    void theEnvironmentSetsTtrpcAddressGomaxprocsAndTheShimPath() {
        Map<String, String> env = shimStart(Path.of("/s"), false, ShimStart.DEFAULT_TIMEOUT).environment();

        assertThat(env).containsEntry("TTRPC_ADDRESS", EVENTS)
                .containsEntry("GOMAXPROCS", "2")
                .containsEntry("PATH", PATH)
                .containsEntry("HOME", "/root");
    }

    @Test
    void thePrintedAddressLosesItsSchemeAndWhitespace() {
        assertThat(ShimStart.parseAddress("unix:///run/containerd/s/abc\n")).isEqualTo("/run/containerd/s/abc");
        assertThat(ShimStart.parseAddress("unix:///run/containerd/s/abc")).isEqualTo("/run/containerd/s/abc");
        assertThat(ShimStart.parseAddress(" /run/x/s ")).isEqualTo("/run/x/s");
        for (String bad : List.of("", "\n", "unix://", "vsock://3:1024", "relative")) {
            assertThat(Errors.kindOf(org.assertj.core.api.Assertions.catchThrowable(
                    () -> ShimStart.parseAddress(bad)))).as(bad).isEqualTo(ErrorKind.INTERNAL);
        }
    }

    @Test
    void startRunsTheBinaryInTheBundleWithStdinAtEofAndReturnsTheAddress() throws IOException {
        Path record = Files.createDirectories(dir.resolve("record"));
        // cat reads stdin to EOF as the real start does: it returns only because stdin is /dev/null.
        Path shim = script("fake-shim", """
                printf '%%s\\n' "$@" > %1$s/argv
                env > %1$s/env
                pwd > %1$s/cwd
                cat > %1$s/stdin
                printf 'unix:///run/containerd/s/abc'
                """.formatted(record));

        StepVerifier.create(shimStart(shim, false, ShimStart.DEFAULT_TIMEOUT).start(bundle))
                .expectNext("/run/containerd/s/abc")
                .expectComplete()
                .verify(BOUND);

        assertThat(Files.readAllLines(record.resolve("argv"))).containsExactly("-namespace", NS, "-address",
                state.toString(), "-publish-binary", "", "-id", "web", "start");
        assertThat(Files.readAllLines(record.resolve("env"))).contains("TTRPC_ADDRESS=" + EVENTS, "GOMAXPROCS=2",
                "PATH=" + PATH);
        assertThat(Files.readString(record.resolve("cwd")).strip()).isEqualTo(bundle.path().toString());
        assertThat(Files.size(record.resolve("stdin"))).isZero();
    }

    @Test
    void aFailedStartIsInternalWithTheShimsStderr() throws IOException {
        Path shim = script("failing-shim", "printf 'io.containerd.runc.v2: shim namespace cannot be empty' >&2\n"
                + "exit 1\n");

        StepVerifier.create(shimStart(shim, false, ShimStart.DEFAULT_TIMEOUT).start(bundle))
                .expectErrorSatisfies(e -> {
                    assertThat(Errors.kindOf(e)).isEqualTo(ErrorKind.INTERNAL);
                    assertThat(e.getMessage()).contains("shim namespace cannot be empty");
                })
                .verify(BOUND);
    }

    @Test
    void aBinaryThatCannotRunIsUnavailable() {
        StepVerifier.create(shimStart(dir.resolve("nosuch"), false, ShimStart.DEFAULT_TIMEOUT).start(bundle))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE))
                .verify(BOUND);
    }

    @Test
    void aStartThatHangsTimesOutInVirtualTime() throws IOException {
        Path shim = script("hanging-shim", "exec sleep 60\n");

        StepVerifier.withVirtualTime(() -> shimStart(shim, false, ShimStart.DEFAULT_TIMEOUT).start(bundle),
                        () -> time, Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(ShimStart.DEFAULT_TIMEOUT)
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.DEADLINE_EXCEEDED))
                .verify(BOUND);
    }

    @Test
    void deleteReturnsStdoutBytesAsTheyAre() throws IOException {
        Path shim = script("deleting-shim", "printf '\\010\\362\\066\\020\\211\\001'\n"
                + "printf 'level=info msg=\"starting signal loop\"' >&2\n");

        StepVerifier.create(shimStart(shim, false, ShimStart.DEFAULT_TIMEOUT).delete(bundle))
                .assertNext(bytes -> assertThat(bytes).containsExactly(0x08, 0xf2, 0x36, 0x10, 0x89, 0x01))
                .expectComplete()
                .verify(BOUND);
    }

    Path script(String name, String body) throws IOException {
        Path path = dir.resolve(name);
        Files.writeString(path, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
        return path;
    }
}
