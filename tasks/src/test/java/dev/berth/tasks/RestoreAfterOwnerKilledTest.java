package dev.berth.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.Berth;
import dev.berth.LocalConfig;
import dev.berth.core.Envelope;
import dev.berth.core.ExitStatus;
import dev.berth.core.Namespaces;
import dev.berth.core.Process;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.core.Task;
import dev.berth.core.TaskStatus;
import dev.berth.core.os.Syscalls;
import dev.berth.events.EventTypes;
import dev.berth.events.TaskTopics;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.shims.testing.BusyboxRootfs;
import dev.berth.shims.testing.ContainerTests;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;

/**
 * DESIGN §5.1 across a restart: a child JVM owning two running containers is killed with SIGKILL; one container
 * exits during the outage; a new service over the same state restores both. The live one can be exec'd, killed and
 * waited; the exited one reports its real code, with its {@code /tasks/exit}, exactly once.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class RestoreAfterOwnerKilledTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final String NS = "restore-test";

    @TempDir
    Path dir;
    Path state;
    Path rootfs;
    java.lang.Process child;
    TaskManager tasks;

    @BeforeEach
    void prerequisites() throws IOException {
        ContainerTests.requirePrerequisites("the restore tests");
        state = dir.resolve("state");
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
        Syscalls.linux().mkfifo(rootfs.resolve("tmp/go").toString(), 0600);
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (child != null) {
            child.destroyForcibly().waitFor();
        }
        if (tasks != null) {
            tasks.close().block(WAIT);
        }
        ContainerTests.removeLeftovers(state);
    }

    /** Starts the owner JVM and reads the pids of its containers. */
    private Map<String, Integer> startOwner() throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", RestoreChild.class.getName(),
                state.toString(), rootfs.toString(), NS)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        Map<String, Integer> pids = new HashMap<>();
        BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8));
        for (String line = lines.readLine(); line != null && !line.equals("ready"); line = lines.readLine()) {
            String[] parts = line.split(" ");
            pids.put(parts[0], Integer.parseInt(parts[1]));
        }
        assertThat(pids).containsOnlyKeys("live", "short");
        return pids;
    }

    @Test
    void theLiveTaskCanBeUsedAndTheOneThatExitedDuringTheOutageReportsItsRealCode() throws Exception {
        Map<String, Integer> pids = startOwner();

        child.destroyForcibly(); // SIGKILL: no close, no detach, the lock dies with the process
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        try (OutputStream go = Files.newOutputStream(rootfs.resolve("tmp/go"))) {
            go.write('\n'); // "short" reads it and exits 7, while no Berth process owns it
        }
        ProcessHandle.of(pids.get("short")).ifPresent(p -> p.onExit().join());

        tasks = Berth.local(LocalConfig.of(state).withShimPool(4, java.time.Duration.ZERO));
        // the exits of short (on restore), of the exec and of live (killed)
        Mono<List<Envelope>> events = tasks.events().subscribe("topic==\"" + TaskTopics.EXIT + "\"")
                .take(3).collectList().cache();
        events.subscribe();
        Map<String, Task> restored = tasks.restore().collectMap(Task::id).block(WAIT);
        assertThat(restored).containsOnlyKeys("live", "short");

        Task shortTask = restored.get("short");
        assertThat(shortTask.exit().block(WAIT)).satisfies(s -> assertThat(s.code()).hasValue(7));
        Task live = restored.get("live");
        assertThat(live.status().block(WAIT)).isEqualTo(TaskStatus.RUNNING);
        assertThat(live.namespace()).isEqualTo(NS);

        Process echo = live.exec("hello", ProcessSpec.of("/bin/echo", "still here")).block(WAIT);
        Mono<String> out = ShimV2TaskServiceTest.text(echo.stdout()).cache();
        out.subscribe();
        Mono<ExitStatus> echoExit = echo.exit();
        echo.start().block(WAIT);
        assertThat(echoExit.block(WAIT).isSuccess()).isTrue();
        assertThat(out.block(WAIT)).isEqualTo("still here\n");
        echo.delete().block(WAIT);

        live.kill(Signal.KILL).block(WAIT);
        assertThat(live.exit().block(WAIT).signal()).contains(Signal.KILL);

        Map<String, Integer> exits = events.block(WAIT).stream()
                .map(e -> EventTypes.unpack(e.event(), TaskExit.class))
                .filter(e -> e.getId().equals(e.getContainerId()))
                .collect(Collectors.toMap(TaskExit::getContainerId, TaskExit::getExitStatus));
        assertThat(exits).containsExactlyInAnyOrderEntriesOf(Map.of("short", 7, "live", 128 + 9));

        assertThat(shortTask.delete().block(WAIT).code()).hasValue(7);
        live.delete().block(WAIT);
        assertThat(tasks.list().contextWrite(Namespaces.with(NS)).collectList().block(WAIT)).isEmpty();
        assertThat(ContainerTests.shimsOf(state.toAbsolutePath().normalize().toString())).isEmpty();
        try (var left = Files.list(state.resolve(NS))) {
            assertThat(left.toList()).isEmpty();
        }
    }

    @Test
    void whileTheOwnerLivesTheStateIsRefusedAndShimsThatDiedInTheOutageAreReportedUnknownAndCleanedUp()
            throws Exception {
        startOwner();
        TaskManager second = Berth.local(LocalConfig.of(state).withShimPool(4, java.time.Duration.ZERO));
        try {
            Throwable refused = org.assertj.core.api.Assertions.catchThrowable(
                    () -> second.restore().collectList().block(WAIT));
            assertThat(dev.berth.core.Errors.kindOf(refused))
                    .isEqualTo(dev.berth.core.ErrorKind.FAILED_PRECONDITION);
            assertThat(refused).hasMessageContaining("pid " + child.pid());
        } finally {
            second.close().block(WAIT);
        }

        child.destroyForcibly();
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        List<ProcessHandle> shims = ContainerTests.shimsOf(state.toAbsolutePath().normalize().toString());
        assertThat(shims).hasSize(2);
        for (ProcessHandle shim : shims) {
            shim.destroyForcibly(); // the shims die too while nobody owns them
            shim.onExit().join();
        }

        tasks = Berth.local(LocalConfig.of(state).withShimPool(4, java.time.Duration.ZERO));
        Mono<List<Envelope>> events = tasks.events().subscribe().take(4).collectList().cache();
        events.subscribe();
        Map<String, Task> restored = tasks.restore().collectMap(Task::id).block(WAIT);
        assertThat(restored).containsOnlyKeys("live", "short");
        for (Task task : restored.values()) {
            assertThat(task.exit().block(WAIT).kind()).isEqualTo(ExitStatus.Kind.UNKNOWN);
        }
        List<Envelope> got = events.block(WAIT);
        Map<String, List<String>> topics = got.stream().collect(Collectors.groupingBy(
                e -> e.topic().equals(TaskTopics.EXIT) ? EventTypes.unpack(e.event(), TaskExit.class)
                        .getContainerId() : EventTypes.unpack(e.event(),
                        dev.berth.events.proto.containerd.events.TaskDelete.class).getContainerId(),
                Collectors.mapping(Envelope::topic, Collectors.toList())));
        assertThat(topics).containsOnlyKeys("live", "short");
        topics.values().forEach(t -> assertThat(t).containsExactly(TaskTopics.EXIT, TaskTopics.DELETE));
        assertThat(tasks.list().contextWrite(Namespaces.with(NS)).collectList().block(WAIT)).isEmpty();
        try (var left = Files.list(state.resolve(NS))) {
            assertThat(left.toList()).isEmpty();
        }
        assertThat(state.resolve(".runc").resolve(NS).resolve("live")).doesNotExist();
        assertThat(state.resolve(".runc").resolve(NS).resolve("short")).doesNotExist();
    }
}
