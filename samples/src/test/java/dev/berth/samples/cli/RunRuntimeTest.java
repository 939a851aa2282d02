package dev.berth.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.Stdio;
import dev.berth.core.TaskSpec;
import dev.berth.core.TaskStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code berth run} with {@code --runtime}, {@code --rootfs}, {@code -d} and {@code --state}, over the fake. */
@Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RunRuntimeTest {
    static final String V2 = "io.containerd.runc.v2";

    final CliHarness cli = new CliHarness();
    @TempDir
    Path dir;

    Path rootfs() throws Exception {
        return Files.createDirectories(dir.resolve("rootfs"));
    }

    @Test
    void anEmbeddedRunNeverTakesOverTheContainersSoItNeedsNoLockNorRoot() {
        cli.root = false;

        assertThat(cli.berth("run", "--rm", "hello", "--", "echo", "hello")).isZero();
        assertThat(cli.service.calls).doesNotContain("restore", "restore(subscribed)")
                .contains("create default", "start default");
        assertThat(cli.service.task().spec().runtime()).isEmpty();
        assertThat(cli.service.task().spec().rootfs()).isNull();
    }

    @Test
    void theStateDirectoryComesFromTheFlagElseBerthStateElseTheDefault() {
        cli.environment.put("BERTH_STATE", dir.resolve("from-env").toString());
        assertThat(cli.berth("--state", dir.resolve("from-flag").toString(), "run", "a", "--", "true")).isZero();
        assertThat(cli.berth("run", "b", "--", "true")).isZero();
        cli.environment.clear();
        assertThat(cli.berth("run", "c", "--", "true")).isZero();

        assertThat(cli.service.states).containsExactly(dir.resolve("from-flag"), dir.resolve("from-env"),
                dev.berth.LocalConfig.defaultState());
    }

    @Test
    void aContainerRunTakesOverTheContainersBeforeItCreatesWithRootfsRuntimeAndADefaultPath() throws Exception {
        Path rootfs = rootfs();

        assertThat(cli.berth("run", "--runtime", V2, "--rootfs", rootfs.toString(), "-e", "A=1", "c1", "--",
                "sleep", "1")).isZero();

        assertThat(cli.service.calls).startsWith("restore", "create default", "start default");
        TaskSpec spec = cli.service.task().spec();
        assertThat(spec.runtime()).isEqualTo(V2);
        assertThat(spec.rootfs()).isEqualTo(rootfs);
        assertThat(spec.process().env()).containsEntry("A", "1").containsEntry("PATH", Runtimes.DEFAULT_PATH);
        assertThat(cli.service.task().currentStatus()).isEqualTo(TaskStatus.DELETED);
    }

    @Test
    void aPathGivenWithDashEIsKept() throws Exception {
        assertThat(cli.berth("run", "--runtime", V2, "--rootfs", rootfs().toString(), "-e", "PATH=/bin", "c1",
                "--", "true")).isZero();
        assertThat(cli.service.task().spec().process().env()).containsEntry("PATH", "/bin");
    }

    @Test
    void theContainerRuntimeWithoutRootfsExits125AndMakesNoService() {
        assertThat(cli.berth("run", "--runtime", V2, "c1", "--", "true")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("--rootfs");
        assertThat(cli.servicesMade).hasValue(0);
    }

    @Test
    void rootfsWithTheEmbeddedRuntimeExits125() throws Exception {
        assertThat(cli.berth("run", "--rootfs", rootfs().toString(), "c1", "--", "true")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("--rootfs is only valid with --runtime " + V2);
        assertThat(cli.servicesMade).hasValue(0);
    }

    @Test
    void aRootfsThatIsNotADirectoryExits125() {
        assertThat(cli.berth("run", "--runtime", V2, "--rootfs", dir.resolve("missing").toString(), "c1", "--",
                "true")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("not a directory");
        assertThat(cli.servicesMade).hasValue(0);
    }

    @Test
    void anUnknownRuntimeExits125NamingTheKnownOnes() {
        assertThat(cli.berth("run", "--runtime", "io.containerd.kata.v2", "c1", "--", "true")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("io.berth.embedded", V2);
        assertThat(cli.servicesMade).hasValue(0);
    }

    @Test
    void containersWithoutRootExit125SayingSo() throws Exception {
        cli.root = false;

        assertThat(cli.berth("run", "--runtime", V2, "--rootfs", rootfs().toString(), "c1", "--", "true"))
                .isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("need root");
        assertThat(cli.berth("run", "-d", "--runtime", V2, "--rootfs", rootfs().toString(), "c1", "--", "true"))
                .isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("need root");
        assertThat(cli.servicesMade).hasValue(0);
    }

    @Test
    void detachingAnEmbeddedTaskExits125SayingItCannotOutliveTheCommand() {
        assertThat(cli.berth("run", "-d", "job", "--", "sleep", "100")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("cannot outlive");
        assertThat(cli.servicesMade).hasValue(0);
    }

    @Test
    void detachRefusesInteractiveRmAndEvents() throws Exception {
        String rootfs = rootfs().toString();
        for (String flag : new String[] {"-i", "--rm", "--events"}) {
            assertThat(cli.berth("run", "-d", flag, "--runtime", V2, "--rootfs", rootfs, "c1", "--", "true"))
                    .as(flag).isEqualTo(125);
            assertThat(cli.oneBerthLine()).contains(flag);
        }
        assertThat(cli.servicesMade).hasValue(0);
    }

    @Test
    void aDetachedRunStartsTheContainerWithItsOutputInTheLogFileAndLeavesItRunning() throws Exception {
        cli.service.onStart(task -> { }); // runs until killed
        Path state = dir.resolve("state");

        int code = cli.berth("--state", state.toString(), "-n", "h3-ns", "run", "-d", "--runtime", V2, "--rootfs",
                rootfs().toString(), "web", "--", "sleep", "100");

        assertThat(code).isZero();
        Path log = state.resolve(".logs/h3-ns/web.log");
        assertThat(cli.out()).isEqualTo(log + "\n");
        assertThat(cli.err()).isEmpty();
        assertThat(log.getParent()).isDirectory();
        assertThat(cli.service.calls).containsExactly("restore", "create h3-ns", "start h3-ns");
        Stdio stdio = cli.service.task().spec().process().stdio();
        assertThat(stdio.stdin()).isEqualTo(Stdio.Input.NULL);
        assertThat(stdio.stdout()).isEqualTo(Stdio.Output.appendTo(log));
        assertThat(stdio.stderr()).isEqualTo(Stdio.Output.appendTo(log));
        assertThat(cli.service.task().currentStatus()).isEqualTo(TaskStatus.RUNNING);
        assertThat(cli.service.closed).isTrue();
        assertThat(cli.signals.hooksOpen).hasValue(0);
    }

    @Test
    void aDetachedContainerThatCannotStartIsDeletedAndExitsWithTheLaunchCode() throws Exception {
        cli.service.startFailure = Errors.notFound("exec: \"nope\": executable file not found in $PATH");

        assertThat(cli.berth("--state", dir.resolve("state").toString(), "run", "-d", "--runtime", V2, "--rootfs",
                rootfs().toString(), "web", "--", "nope")).isEqualTo(127);

        assertThat(cli.oneBerthLine()).contains("nope");
        assertThat(cli.out()).isEmpty();
        assertThat(cli.service.calls).contains("delete(force) default");
        assertThat(cli.service.task().currentStatus()).isEqualTo(TaskStatus.DELETED);
    }

    @Test
    void anIdAlreadyInUseByALeftContainerExits125() throws Exception {
        cli.service.createFailure = Errors.alreadyExists("task web already exists in namespace default");

        assertThat(cli.berth("--state", dir.resolve("state").toString(), "run", "-d", "--runtime", V2, "--rootfs",
                rootfs().toString(), "web", "--", "true")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("already exists");
    }

    @Test
    void aStateDirectoryOwnedByAnotherProcessExits125SayingSo() throws Exception {
        cli.service.restoreFailure = Errors.failedPrecondition("state directory locked by pid 4711");

        assertThat(cli.berth("--state", dir.resolve("state").toString(), "run", "--runtime", V2, "--rootfs",
                rootfs().toString(), "web", "--", "true")).isEqualTo(125);

        assertThat(cli.oneBerthLine()).contains("one berth process at a time owns the state directory",
                dir.resolve("state").toString(), "pid 4711");
        assertThat(cli.service.tasks).isEmpty();
        assertThat(cli.service.closed).isTrue();
    }

    @Test
    void aPermissionDeniedWhileTakingOverSaysContainersNeedRoot() throws Exception {
        cli.service.restoreFailure = Errors.of(ErrorKind.PERMISSION_DENIED, "open /run/berth/lock: EACCES");

        assertThat(cli.berth("--state", dir.resolve("state").toString(), "run", "-d", "--runtime", V2, "--rootfs",
                rootfs().toString(), "web", "--", "true")).isEqualTo(125);
        assertThat(cli.oneBerthLine()).contains("need root");
        assertThat(dir.resolve("state")).doesNotExist(); // refused before anything was made: no log directory
    }
}
