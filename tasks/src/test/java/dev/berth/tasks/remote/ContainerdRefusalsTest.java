package dev.berth.tasks.remote;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.Berth;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.Namespaces;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Stdio;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import dev.berth.core.TaskStatus;
import dev.berth.shims.testing.ContainerTests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The inputs of spec §8 that break containerd or a shim, as far as Berth's public API can express them: each is
 * refused before anything is sent (INVALID_ARGUMENT, or FAILED_PRECONDITION where the suite's contract says so), or
 * never reaches the wire in its dangerous form, and after each the daemon is the same process and still answers a
 * Version call, and its shims are only those of live tasks.
 *
 * <p>Not expressible through the public API, so not here: {@code Events/Publish} without an event (the service only
 * subscribes), {@code Any.pack} on runtime options, a {@code binary://} logger, and Create before the FIFO readers
 * are open (the implementation's own unit tests own those).
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class ContainerdRefusalsTest {
    static final String NS = "h7-refusals";
    static final Duration WAIT = Duration.ofSeconds(20);

    @RegisterExtension
    static final PrivateContainerd containerd = new PrivateContainerd(NS);
    TaskService tasks;
    long daemonPid;

    @BeforeEach
    void open() {
        List<String> left = containerd.removeAll(NS);
        if (!left.isEmpty()) {
            System.err.println("ContainerdRefusalsTest: an earlier test left " + left);
        }
        daemonPid = containerd.pid();
        tasks = Berth.containerd(containerd.socket());
    }

    @AfterEach
    void close() {
        if (tasks != null) {
            StepVerifier.create(tasks.close()).expectComplete().verify(WAIT);
        }
    }

    private void assertDaemonUp(String after) {
        assertThat(containerd.isRunning()).as("daemon alive after %s", after).isTrue();
        assertThat(containerd.pid()).as("same daemon after %s", after).isEqualTo(daemonPid);
        assertThat(containerd.answers()).as("daemon answers after %s", after).isTrue();
    }

    private static <T> Mono<T> inNs(Mono<T> call) {
        return call.contextWrite(Namespaces.with(NS));
    }

    private TaskSpec spec(String id, ProcessSpec process) throws Exception {
        return TaskSpec.builder(id, process).rootfs(containerd.rootfs()).build();
    }

    private Task running(String id) throws Exception {
        Task task = inNs(tasks.create(spec(id, ProcessSpec.builder("/bin/sleep", "300").stdio(Stdio.NULL).build())))
                .block(WAIT);
        inNs(task.start()).block(WAIT);
        return task;
    }

    private static void expectKind(Mono<?> call, ErrorKind kind) {
        StepVerifier.create(call).expectErrorMatches(e -> Errors.is(e, kind)).verify(WAIT);
    }

    /** §8: Tasks/Exec without a spec makes the runc shim panic and takes the whole task down. */
    @Test
    void anExecWithoutAProcessIsRefusedAndTheTaskLivesOn() throws Exception {
        Task task = running("exec-host");
        StepVerifier.create(inNs(Mono.defer(() -> task.exec("e1", null))))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT) || e instanceof NullPointerException)
                .verify(WAIT);
        expectKind(inNs(task.exec("e2", ProcessSpec.builder(List.of()).build())), ErrorKind.INVALID_ARGUMENT);
        expectKind(inNs(task.exec("e3", ProcessSpec.of(""))), ErrorKind.INVALID_ARGUMENT);
        expectKind(inNs(task.exec("", ProcessSpec.of("/bin/true"))), ErrorKind.INVALID_ARGUMENT);
        expectKind(inNs(task.exec("bad id!", ProcessSpec.of("/bin/true"))), ErrorKind.INVALID_ARGUMENT);
        assertDaemonUp("refused execs");
        assertThat(inNs(task.status()).block(WAIT)).as("the shim did not crash").isEqualTo(TaskStatus.RUNNING);
        assertThat(ContainerTests.shimsOf(containerd.socket().toString())).hasSize(1);
        assertThat(inNs(task.delete(true)).block(WAIT)).isNotNull();
    }

    /** Invalid specs are refused before any call: no container record is made. */
    @Test
    void invalidProcessSpecsAreRefusedAndLeaveNoContainer() throws Exception {
        List<ProcessSpec> bad = List.of(
                ProcessSpec.builder(List.of()).build(),
                ProcessSpec.of(""),
                ProcessSpec.of("/bin/echo", "a\0b"),
                ProcessSpec.builder("/bin/true").cwd("relative").build(),
                ProcessSpec.builder("/bin/true").env("A=B", "x").build());
        for (ProcessSpec process : bad) {
            expectKind(inNs(tasks.create(spec("bad", process))), ErrorKind.INVALID_ARGUMENT);
        }
        // A rootfs that is no directory never reaches runc (which would fail it with UNKNOWN after starting a shim).
        for (Path rootfs : List.of(containerd.dir().resolve("no-such-rootfs"), containerd.dir().resolve("config.toml"))) {
            StepVerifier.create(inNs(tasks.create(TaskSpec.builder("bad", ProcessSpec.of("/bin/true"))
                            .rootfs(rootfs).build())))
                    .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND) || Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                    .verify(WAIT);
        }
        expectKind(inNs(tasks.create(TaskSpec.of("bad", ProcessSpec.of("/bin/true")))),
                ErrorKind.INVALID_ARGUMENT); // a container needs a rootfs directory
        assertDaemonUp("refused specs");
        assertThat(containerd.ctr("containers", "ls", "-q").output()).isBlank();
        assertThat(ContainerTests.shimsOf(containerd.socket().toString())).isEmpty();
    }

    /**
     * §8: stdin alone (stdout and stderr empty) hangs Tasks/Create and leaves an orphan shim; stdout without stderr
     * fails. Berth's stdio combinations with null outputs must either be refused (INVALID_ARGUMENT) or reach the
     * daemon in a safe form: in both cases create ends in time, and no shim is left.
     */
    @Test
    void stdioWithNullOutputsNeverHangsCreateNorLeavesAShim() throws Exception {
        List<Stdio> combinations = List.of(
                new Stdio(Stdio.Input.PIPE, Stdio.Output.NULL, Stdio.Output.NULL),
                new Stdio(Stdio.Input.NULL, Stdio.Output.PIPE, Stdio.Output.NULL),
                new Stdio(Stdio.Input.NULL, Stdio.Output.NULL, Stdio.Output.PIPE),
                new Stdio(Stdio.Input.PIPE, Stdio.Output.PIPE, Stdio.Output.NULL));
        int i = 0;
        for (Stdio stdio : combinations) {
            String id = "stdio-" + i++;
            Mono<ExitStatus> run = inNs(tasks.create(spec(id, ProcessSpec.builder("/bin/true").stdio(stdio).build())))
                    .flatMap(task -> {
                        Mono<ExitStatus> exit = task.exit();
                        Mono<?> drain = Mono.when(
                                stdio.stdout() == Stdio.Output.PIPE ? task.stdout().then() : Mono.empty(),
                                stdio.stderr() == Stdio.Output.PIPE ? task.stderr().then() : Mono.empty(),
                                stdio.stdin() == Stdio.Input.PIPE ? task.closeStdin() : Mono.empty());
                        return inNs(task.start()).then(Mono.when(drain)).then(exit)
                                .flatMap(status -> inNs(task.delete()).thenReturn(status));
                    });
            StepVerifier.create(run)
                    .expectNextMatches(ExitStatus::isSuccess)
                    .expectComplete()
                    .verify(WAIT);
            assertDaemonUp(stdio.toString());
            assertThat(ContainerTests.shimsOf(containerd.socket().toString())).as(stdio.toString()).isEmpty();
            assertThat(containerd.ctr("containers", "ls", "-q").output()).as(stdio.toString()).isBlank();
        }
    }

    /** §8: Containers/Delete while a task lives orphans the task from the API; Berth must refuse the delete. */
    @Test
    void deletingARunningTaskIsRefusedAndTheTaskStaysReachable() throws Exception {
        Task task = running("live");
        expectKind(inNs(task.delete()), ErrorKind.FAILED_PRECONDITION);
        assertDaemonUp("refused delete");
        assertThat(containerd.ctr("tasks", "ls").output()).containsPattern("live\\s+\\d+\\s+RUNNING");
        assertThat(PrivateContainerd.ids(containerd.ctr("containers", "ls", "-q").output())).containsExactly("live");
        assertThat(containerd.ctr("tasks", "ps", "live").ok()).as("still reachable through the API").isTrue();
        inNs(task.delete(true)).block(WAIT);
    }

    /**
     * §8: a spec without a mount namespace does runc's rootfs mounts in the host's namespace, and one without a
     * {@code /dev} tmpfs makes device nodes in the host rootfs directory. The spec Berth stored has both, and after a
     * run the rootfs holds no device node and no mount of it is left on the host.
     */
    @Test
    void theSpecBerthSendsHasAMountNamespaceAndADevTmpfs() throws Exception {
        Task task = running("spec");
        String info = containerd.ctr("containers", "info", "spec").orFail("containers info").output();
        JsonNode spec = new ObjectMapper().readTree(info).path("Spec");
        List<String> namespaces = new ArrayList<>();
        spec.path("linux").path("namespaces").forEach(n -> namespaces.add(n.path("type").asText()));
        assertThat(namespaces).contains("mount", "pid");
        boolean devTmpfs = false;
        for (JsonNode mount : spec.path("mounts")) {
            devTmpfs |= mount.path("destination").asText().equals("/dev") && mount.path("type").asText().equals("tmpfs");
        }
        assertThat(devTmpfs).as("a tmpfs on /dev in %s", spec).isTrue();
        assertThat(spec.path("process").path("terminal").asBoolean(false)).isFalse();
        String rootfs = containerd.rootfs().toString();
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(" " + rootfs + " ");
        inNs(task.delete(true)).block(WAIT);
        try (Stream<Path> dev = Files.list(containerd.rootfs().resolve("dev"))) {
            assertThat(dev.toList()).isEmpty();
        }
        assertDaemonUp("a run");
    }

    /**
     * §8 / §1.3: a client keepalive under 5 minutes gets GOAWAY {@code too_many_pings} within seconds and kills open
     * streams. An idle subscription must still deliver after longer than that.
     */
    @Test
    void anIdleSubscriptionIsNotKilledByPingsAndStillDelivers() throws Exception {
        StepVerifier.create(tasks.events().subscribe("namespace==" + NS + ",topic==\"/containers/create\""))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(8))
                .then(() -> {
                    try {
                        containerd.ctr("containers", "create", "--rootfs", containerd.rootfs().toString(), "idle",
                                "/bin/true").orFail("containers create");
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })
                .expectNextMatches(e -> e.topic().equals("/containers/create"))
                .thenCancel()
                .verify(WAIT);
        containerd.ctr("containers", "rm", "idle").orFail("containers rm");
        assertDaemonUp("an idle subscription");
    }
}
