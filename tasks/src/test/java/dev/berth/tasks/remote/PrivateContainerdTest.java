package dev.berth.tasks.remote;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.shims.testing.ContainerTests;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * The fixture itself: the private daemon serves {@code ctr run --rm --rootfs} (spec §3), survives SIGKILL with its
 * tasks running, comes back with them on restart, and {@link PrivateContainerd#stop()} leaves no shim, mount, runc
 * state or directory behind.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class PrivateContainerdTest {
    static final String NS = "h7-fixture";
    final PrivateContainerd containerd = new PrivateContainerd(NS);

    @BeforeAll
    static void gate() {
        PrivateContainerd.requirePrerequisites("the private containerd fixture tests");
    }

    @AfterEach
    void stop() throws Exception {
        containerd.stop();
    }

    @Test
    void theSocketPathIsShortAndTheDaemonAnswers() throws Exception {
        containerd.start();
        assertThat(containerd.socket().toString().getBytes(StandardCharsets.UTF_8).length + ".ttrpc".length())
                .isLessThan(107);
        assertThat(containerd.ctr("version").orFail("version").output()).contains("Server:");
        assertThat(Files.readString(containerd.dir().resolve("config.toml"))).contains("io.containerd.grpc.v1.cri");
        assertThat(ProcessHandle.current().children().map(ProcessHandle::pid))
                .as("the daemon is no child of the JVM: the behaviour suite counts those").doesNotContain(containerd.pid());
    }

    @Test
    void ctrRunRmWithARootfsPrintsAndLeavesNothing() throws Exception {
        containerd.start();
        PrivateContainerd.CtrResult run = containerd.ctr("run", "--rm", "--rootfs", containerd.rootfs().toString(),
                "echo1", "/bin/echo", "hi");
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).isEqualTo("hi\n");
        assertThat(containerd.ctr("containers", "ls", "-q").orFail("ls").output()).isBlank();
        assertThat(containerd.ctr("tasks", "ls", "-q").orFail("ls").output()).isBlank();
    }

    @Test
    void aTaskOutlivesASigkilledDaemonAndIsBackAfterRestartAndStopRemovesEverything() throws Exception {
        containerd.start();
        containerd.runDetached("bg", "/bin/sleep", "300").orFail("run -d");
        String address = containerd.socket().toString();
        assertThat(ContainerTests.shimsOf(address)).hasSize(1);
        long before = containerd.pid();

        containerd.kill();
        assertThat(containerd.isRunning()).isFalse();
        assertThat(containerd.answers()).isFalse();
        assertThat(ContainerTests.shimsOf(address)).as("the shim outlives the daemon").hasSize(1);

        containerd.restart();
        assertThat(containerd.pid()).isNotEqualTo(before);
        assertThat(containerd.ctr("tasks", "ls").orFail("ls").output()).containsPattern("bg\\s+\\d+\\s+RUNNING");

        Path dir = containerd.dir();
        containerd.stop();
        assertThat(ContainerTests.shimsOf(address)).isEmpty();
        assertThat(dir).doesNotExist();
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(dir.toString());
        assertThat(PrivateContainerd.RUNC_ROOT.resolve(NS).resolve("bg")).doesNotExist();
    }
}
