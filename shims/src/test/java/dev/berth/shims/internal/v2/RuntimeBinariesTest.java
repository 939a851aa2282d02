package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class RuntimeBinariesTest {
    final RuntimeSchedulers schedulers = RuntimeSchedulers.forTesting(VirtualTimeScheduler.create());

    @TempDir
    Path dir;

    @AfterEach
    void dispose() {
        schedulers.dispose();
    }

    @Test
    void runtimeNamesMapToContainerdShimBinaryNames() {
        assertThat(RuntimeBinaries.binaryName("io.containerd.runc.v2")).isEqualTo("containerd-shim-runc-v2");
        assertThat(RuntimeBinaries.binaryName("io.containerd.runsc.v1")).isEqualTo("containerd-shim-runsc-v1");
        assertThat(RuntimeBinaries.binaryName("com.example.my-rt.v3")).isEqualTo("containerd-shim-my-rt-v3");
    }

    @Test
    void namesWithASeparatorOrNotOfTheFormABCAreInvalid() {
        for (String bad : new String[] {"", "runc", "runc.v2", "io.containerd.runc.v2/x", "/usr/bin/shim",
                "io..runc.v2", "io.containerd.runc.", "io.containerd.r c.v2", "io.containerd.runc.v2\0"}) {
            assertThat(Errors.kindOf(catchThrowable(() -> RuntimeBinaries.binaryName(bad))))
                    .as(bad).isEqualTo(ErrorKind.INVALID_ARGUMENT);
        }
    }

    @Test
    void aBinaryInTheConfiguredDirectoryIsFoundBeforePath() throws IOException {
        Path shim = executable(dir.resolve("containerd-shim-fake-v9"));
        RuntimeBinaries binaries = RuntimeBinaries.create(dir, "/nonexistent", schedulers);

        StepVerifier.create(binaries.resolve("io.containerd.fake.v9"))
                .expectNext(shim)
                .verifyComplete();
        assertThat(binaries.shimPath()).startsWith(dir.toString() + ":/nonexistent:");
    }

    @Test
    void theSearchPathEndsWithTheSbinDirectoriesWhereDebianPutsRunc() {
        RuntimeBinaries binaries = RuntimeBinaries.create(null, "/usr/bin:relative::/bin", schedulers);

        assertThat(binaries.shimPath()).isEqualTo("/usr/bin:/bin:/usr/sbin:/sbin");
        assertThat(RuntimeBinaries.create(null, "/usr/sbin:/bin", schedulers).shimPath())
                .isEqualTo("/usr/sbin:/bin:/sbin");
    }

    @Test
    void aMissingBinaryIsNotFound() throws IOException {
        Files.writeString(dir.resolve("containerd-shim-plain-v1"), "not executable");
        RuntimeBinaries binaries = RuntimeBinaries.create(dir, "", schedulers);

        StepVerifier.create(binaries.resolve("io.containerd.nosuch.v1"))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(Duration.ofSeconds(5));
        StepVerifier.create(binaries.resolve("io.containerd.plain.v1"))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void anInvalidNameFailsBeforeTheFilesystemIsLookedAt() {
        StepVerifier.create(RuntimeBinaries.create(dir, "", schedulers).resolve("../../bin/sh"))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(Duration.ofSeconds(5));
    }

    static Path executable(Path path) throws IOException {
        Files.writeString(path, "#!/bin/sh\n");
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
        return path;
    }
}
