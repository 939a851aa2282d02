package dev.berth.tasks.remote;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.Berth;
import dev.berth.core.Envelope;
import dev.berth.core.ExitStatus;
import dev.berth.core.Namespaces;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.core.Stdio;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import dev.berth.core.TaskStatus;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * Berth and {@code ctr} on one daemon, both ways: a task Berth created is seen and killed by ctr, and Berth sees the
 * exit; one ctr created is listed, waited and deleted by Berth. Everything happens in {@value #NS}.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class ContainerdInteropTest {
    static final String NS = "h7-interop";
    static final Duration WAIT = Duration.ofSeconds(20);

    @RegisterExtension
    static final PrivateContainerd containerd = new PrivateContainerd(NS);
    TaskService tasks;

    @BeforeEach
    void open() {
        List<String> left = containerd.removeAll(NS);
        if (!left.isEmpty()) {
            System.err.println("ContainerdInteropTest: an earlier test left " + left);
        }
        tasks = Berth.containerd(containerd.socket());
    }

    @AfterEach
    void close() {
        if (tasks != null) {
            StepVerifier.create(tasks.close()).expectComplete().verify(WAIT);
        }
    }

    private TaskSpec spec(String id, String... args) throws Exception {
        return TaskSpec.builder(id, ProcessSpec.builder(args).stdio(Stdio.NULL).build())
                .rootfs(containerd.rootfs()).build();
    }

    private static <T> Mono<T> inNs(Mono<T> call) {
        return call.contextWrite(Namespaces.with(NS));
    }

    @Test
    void aTaskBerthCreatedIsListedAndKilledByCtrAndBerthSeesTheExit() throws Exception {
        Task task = inNs(tasks.create(spec("berth1", "/bin/sleep", "300"))).block(WAIT);
        Mono<ExitStatus> exit = task.exit();
        int pid = inNs(task.start()).block(WAIT);

        String listed = containerd.ctr("tasks", "ls").orFail("tasks ls").output();
        assertThat(listed).containsPattern("berth1\\s+" + pid + "\\s+RUNNING");
        assertThat(PrivateContainerd.ids(containerd.ctr("containers", "ls", "-q").output())).containsExactly("berth1");

        containerd.ctr("tasks", "kill", "-s", "SIGKILL", "berth1").orFail("tasks kill");
        ExitStatus status = exit.block(WAIT);
        assertThat(status.signal()).contains(Signal.KILL);
        assertThat(containerd.ctr("tasks", "ls").output()).containsPattern("berth1\\s+" + pid + "\\s+STOPPED");

        StepVerifier.create(inNs(task.delete())).expectNext(status).expectComplete().verify(WAIT);
        assertThat(containerd.ctr("tasks", "ls", "-q").output()).isBlank();
        assertThat(containerd.ctr("containers", "ls", "-q").output()).as("the container record goes too").isBlank();
    }

    @Test
    void aTaskCtrCreatedIsListedWaitedAndDeletedByBerth() throws Exception {
        containerd.runDetached("ctr1", "/bin/sleep", "300").orFail("run -d");
        int pid = Integer.parseInt(containerd.ctr("tasks", "ls").output().lines()
                .filter(l -> l.startsWith("ctr1 ")).findFirst().orElseThrow().split("\\s+")[1]);

        assertThat(inNs(tasks.list().map(Task::id).collectList()).block(WAIT)).containsExactly("ctr1");
        Task task = inNs(tasks.get("ctr1")).block(WAIT);
        assertThat(task.id()).isEqualTo("ctr1");
        assertThat(task.namespace()).isEqualTo(NS);
        assertThat(inNs(task.status()).block(WAIT)).isEqualTo(TaskStatus.RUNNING);
        assertThat(inNs(task.pids().collectList()).block(WAIT)).first().matches(p -> p.pid() == pid);

        Mono<ExitStatus> exit = task.exit();
        StepVerifier.create(exit).expectSubscription().expectNoEvent(Duration.ofMillis(300)).thenCancel()
                .verify(WAIT); // still running: no invented exit
        containerd.ctr("tasks", "kill", "-s", "SIGKILL", "ctr1").orFail("tasks kill");
        ExitStatus status = exit.block(WAIT);
        assertThat(status.signal()).contains(Signal.KILL);

        StepVerifier.create(inNs(task.delete())).expectNext(status).expectComplete().verify(WAIT);
        assertThat(containerd.ctr("tasks", "ls", "-q").output()).isBlank();
        assertThat(containerd.ctr("containers", "ls", "-q").output()).isBlank();
    }

    @Test
    void aCtrTaskThatAlreadyExitedIsReportedWithItsCode() throws Exception {
        containerd.runDetached("ctr3", "/bin/sh", "-c", "exit 3").orFail("run -d");
        Task task = inNs(tasks.get("ctr3")).block(WAIT);
        ExitStatus status = task.exit().block(WAIT); // Wait answers at once with the stored exit
        assertThat(status.code()).hasValue(3);
        assertThat(inNs(task.status()).block(WAIT)).isEqualTo(TaskStatus.STOPPED);
        StepVerifier.create(inNs(task.delete())).expectNext(status).expectComplete().verify(WAIT);
        assertThat(containerd.ctr("containers", "ls", "-q").output()).isBlank();
    }

    @Test
    void berthKillsACtrTaskAndCtrSeesItStopped() throws Exception {
        containerd.runDetached("ctr2", "/bin/sleep", "300").orFail("run -d");
        Task task = inNs(tasks.get("ctr2")).block(WAIT);
        inNs(task.kill(Signal.KILL)).block(WAIT);
        assertThat(task.exit().block(WAIT).signal()).contains(Signal.KILL);
        assertThat(containerd.ctr("tasks", "ls").output()).containsPattern("ctr2\\s+\\d+\\s+STOPPED");
        inNs(task.delete()).block(WAIT);
    }

    /** The FIFOs of a task's stdio are Berth's (spec §4.1): the daemon echoes them, and delete removes them. */
    @Test
    void theStdioFifosCtrSeesAreGoneAfterDelete() throws Exception {
        Task task = inNs(tasks.create(TaskSpec.builder("piped", ProcessSpec.of("/bin/sh", "-c", "echo out"))
                .rootfs(containerd.rootfs()).build())).block(WAIT);
        String info = containerd.ctr("tasks", "ls").orFail("tasks ls").output();
        assertThat(info).containsPattern("piped\\s+\\d+\\s+CREATED");
        Mono<String> out = task.stdout().map(b -> java.nio.charset.StandardCharsets.UTF_8.decode(b).toString())
                .reduce("", String::concat);
        String got = inNs(task.start()).then(out).block(WAIT);
        assertThat(got).isEqualTo("out\n");
        assertThat(task.exit().block(WAIT).isSuccess()).isTrue();
        inNs(task.delete()).block(WAIT);
        // RemoteTaskService.DEFAULT_FIFO_ROOT, one directory per process named after it
        java.nio.file.Path fifos = java.nio.file.Path.of("/run/berth/fifo");
        if (java.nio.file.Files.isDirectory(fifos)) {
            try (java.util.stream.Stream<java.nio.file.Path> left = java.nio.file.Files.list(fifos)) {
                assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("piped-"));
            }
        }
    }

    /** Without a namespace in the Context, Berth acts in {@code default}, where ctr's tasks go without -n. */
    @Test
    void withoutANamespaceBerthSeesCtrsDefaultNamespace() throws Exception {
        // An id no other suite uses: runc's state of namespace default is shared by the whole host.
        String id = "h7-default-probe";
        containerd.ctrIn("default", "run", "-d", "--null-io", "--rootfs", containerd.rootfs().toString(), id,
                "/bin/sleep", "300").orFail("run -d");
        try {
            assertThat(tasks.list().map(Task::id).collectList().block(WAIT)).contains(id);
            Task task = tasks.get(id).block(WAIT);
            assertThat(task.namespace()).isEqualTo("default");
            assertThat(inNs(tasks.list().map(Task::id).collectList()).block(WAIT)).doesNotContain(id);
            StepVerifier.create(task.delete(true)).expectNextMatches(s -> s.signal().equals(
                    java.util.Optional.of(Signal.KILL))).expectComplete().verify(WAIT);
            assertThat(containerd.ctrIn("default", "containers", "ls", "-q").output()).doesNotContain(id);
        } finally {
            containerd.removeAll("default");
        }
    }

    @Test
    void pauseByBerthIsSeenByCtrAndResumeByCtrIsSeenByBerth() throws Exception {
        Task task = inNs(tasks.create(spec("paused", "/bin/sleep", "300"))).block(WAIT);
        inNs(task.start()).block(WAIT);
        inNs(task.pause()).block(WAIT);
        assertThat(containerd.ctr("tasks", "ls").output()).containsPattern("paused\\s+\\d+\\s+PAUSED");
        containerd.ctr("tasks", "resume", "paused").orFail("tasks resume");
        assertThat(inNs(task.status()).block(WAIT)).isEqualTo(TaskStatus.RUNNING);
        inNs(task.delete(true)).block(WAIT);
    }

    @Test
    void anUpdateByBerthIsSeenInCtrsMetricsAndBerthSamplesTheMetricsToo() throws Exception {
        Task task = inNs(tasks.create(spec("limited", "/bin/sleep", "300"))).block(WAIT);
        inNs(task.start()).block(WAIT);
        inNs(task.update(new dev.berth.core.oci.LinuxResources(List.of(), null, null,
                new dev.berth.core.oci.LinuxResources.Pids(77), java.util.Map.of()))).block(WAIT);
        assertThat(containerd.ctr("tasks", "metrics", "limited").output()).containsPattern("pids.limit\\s+77");
        dev.berth.core.TaskMetrics metrics = inNs(task.metrics()).block(WAIT);
        assertThat(metrics.data().getTypeUrl()).startsWith("io.containerd.cgroups.v");
        assertThat(metrics.data().getValue().isEmpty()).isFalse();
        StepVerifier.create(inNs(task.update(new dev.berth.core.oci.LinuxResources(List.of(), null, null, null,
                        java.util.Map.of()))))
                .expectErrorMatches(e -> dev.berth.core.Errors.is(e, dev.berth.core.ErrorKind.INVALID_ARGUMENT))
                .verify(WAIT);
        inNs(task.delete(true)).block(WAIT);
        StepVerifier.create(inNs(task.metrics()))
                .expectErrorMatches(e -> dev.berth.core.Errors.is(e, dev.berth.core.ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
    }

    /** A filter that does not parse fails at once, typed, as with the local exchange (the daemon says UNKNOWN). */
    @Test
    void aFilterThatDoesNotParseFailsWithInvalidArgument() {
        for (String bad : List.of("topic==/tasks/exit", "id==", "a===b", "id==x,")) {
            StepVerifier.create(tasks.events().subscribe(bad))
                    .expectErrorMatches(e -> dev.berth.core.Errors.is(e, dev.berth.core.ErrorKind.INVALID_ARGUMENT))
                    .verify(WAIT);
        }
    }

    @Test
    void berthEventsCarryTheExitOfATaskCtrKilled() throws Exception {
        Sinks.Many<Envelope> seen = Sinks.many().replay().all();
        Disposable subscription = tasks.events()
                .subscribe("namespace==" + NS + ",topic~=\"^/(tasks|containers)/\"")
                .subscribe(seen::tryEmitNext, seen::tryEmitError, seen::tryEmitComplete);
        try {
            awaitSubscribed(seen.asFlux());
            containerd.runDetached("ctr4", "/bin/sleep", "300").orFail("run -d");
            containerd.ctr("tasks", "kill", "-s", "SIGKILL", "ctr4").orFail("tasks kill");
            Task task = inNs(tasks.get("ctr4")).block(WAIT);
            ExitStatus status = task.exit().block(WAIT);
            assertThat(status.signal()).contains(Signal.KILL);
            inNs(task.delete()).block(WAIT);

            List<Envelope> taskEvents = seen.asFlux()
                    .filter(e -> e.topic().startsWith("/tasks/"))
                    .takeUntil(e -> e.topic().equals("/tasks/delete"))
                    .collectList().block(WAIT);
            assertThat(taskEvents).extracting(Envelope::topic)
                    .containsExactly("/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete");
            Envelope exitEvent = taskEvents.get(2);
            assertThat(exitEvent.namespace()).isEqualTo(NS);
            assertThat(exitEvent.event().getTypeUrl()).isEqualTo("containerd.events.TaskExit");
        } finally {
            subscription.dispose();
        }
    }

    /**
     * A subscription is not acknowledged (spec §2.4): creates and removes sentinel containers with ctr until one of
     * their events has come through.
     */
    private void awaitSubscribed(Flux<Envelope> seen) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        for (int i = 0; ; i++) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no event reached the subscription within " + WAIT);
            }
            String id = "sentinel-" + i;
            containerd.ctr("containers", "create", "--rootfs", containerd.rootfs().toString(), id, "/bin/true")
                    .orFail("containers create");
            containerd.ctr("containers", "rm", id).orFail("containers rm");
            Envelope got = seen.filter(e -> e.topic().equals("/containers/create"))
                    .next().timeout(Duration.ofMillis(500), Mono.empty()).block(WAIT);
            if (got != null) {
                return;
            }
        }
    }
}
