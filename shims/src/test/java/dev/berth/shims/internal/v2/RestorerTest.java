package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ProcessSpec;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Stdio;
import dev.berth.core.TaskSpec;
import dev.berth.core.os.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

@EnabledOnOs(OS.LINUX)
class RestorerTest {
    static final Duration BOUND = Duration.ofSeconds(10);

    final RuntimeSchedulers schedulers = RuntimeSchedulers.create("restorer-test");
    final Syscalls sys = Syscalls.linux();

    @TempDir
    Path dir;
    Path state;
    Path rootfs;
    Bundles bundles;

    @BeforeEach
    void layout() throws IOException {
        state = dir.resolve("state");
        rootfs = Files.createDirectories(dir.resolve("rootfs"));
        bundles = new Bundles(state, sys, schedulers);
    }

    @AfterEach
    void dispose() {
        schedulers.dispose();
    }

    Bundle bundle(String namespace, String id, ProcessSpec process) {
        Bundle bundle = bundles.create(namespace, TaskSpec.builder(id, process)
                .runtime("io.containerd.runc.v2").rootfs(rootfs).build()).block(BOUND);
        return bundle;
    }

    @Test
    void theSpecIsReadBackFromTheBundleWithStdioFromTheFifosPresent() throws IOException {
        Bundle bundle = bundle("ns", "web", ProcessSpec.builder("/bin/sh", "-c", "echo hi").env("A", "1")
                .cwd("/tmp").build());
        bundles.createFifos(bundle, "web", true).block(BOUND);
        TaskSpec spec = Restorer.spec(bundle);
        assertThat(spec.id()).isEqualTo("web");
        assertThat(spec.runtime()).isEqualTo("io.containerd.runc.v2");
        assertThat(spec.rootfs()).isEqualTo(rootfs.toAbsolutePath());
        assertThat(spec.process().args()).containsExactly("/bin/sh", "-c", "echo hi");
        assertThat(spec.process().env()).containsEntry("A", "1");
        assertThat(spec.process().cwd()).isEqualTo("/tmp");
        assertThat(spec.process().stdio()).isEqualTo(new Stdio(Stdio.Input.PIPE, Stdio.Output.PIPE,
                Stdio.Output.PIPE));

        Bundle quiet = bundle("ns", "quiet", ProcessSpec.of("true"));
        assertThat(Restorer.spec(quiet).process().stdio()).isEqualTo(Stdio.NULL);
    }

    @Test
    void onlyBundleDirectoriesWithAConfigUnderValidNamesAreFound() throws IOException {
        bundle("b-ns", "two", ProcessSpec.of("true"));
        bundle("a-ns", "one", ProcessSpec.of("true"));
        Files.createDirectories(state.resolve("a-ns").resolve("no-config"));
        Files.createDirectories(state.resolve(".logs").resolve("a-ns"));
        Files.writeString(state.resolve(".lock"), "1");
        Restorer restorer = new Restorer(state, schedulers);
        assertThat(restorer.bundles()).extracting(b -> b.namespace() + "/" + b.id())
                .containsExactly("a-ns/one", "b-ns/two");
        assertThat(new Restorer(dir.resolve("missing"), schedulers).bundles()).isEmpty();
    }

    @Test
    void aBundleWithoutAnAddressNeverHadAShimAndOneWhoseShimIsGoneIsDead() throws IOException {
        bundle("ns", "half", ProcessSpec.of("true"));
        Bundle gone = bundle("ns", "gone", ProcessSpec.of("true"));
        Files.writeString(gone.address(), "unix://" + dir.resolve("no-such.sock"));
        Files.writeString(gone.path().resolve("init.pid"), "4321");
        StepVerifier.create(new Restorer(state, schedulers).scan().collectList())
                .assertNext(found -> {
                    assertThat(found).hasSize(2);
                    assertThat(found.get(0)).isInstanceOfSatisfying(Restorer.Dead.class, dead -> {
                        assertThat(dead.bundle().id()).isEqualTo("gone");
                        assertThat(dead.pid()).isEqualTo(4321);
                        assertThat(dead.spec().process().args()).isEqualTo(List.of("true"));
                    });
                    assertThat(found.get(1)).isInstanceOfSatisfying(Restorer.Incomplete.class,
                            half -> assertThat(half.bundle().id()).isEqualTo("half"));
                })
                .expectComplete()
                .verify(BOUND);
    }
}
