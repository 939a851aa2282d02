package dev.berth.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ExitStatus;
import dev.berth.core.Namespaces;
import dev.berth.core.ProcessSpec;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Signal;
import dev.berth.core.Stdio;
import dev.berth.core.Task;
import dev.berth.core.TaskSpec;
import dev.berth.shims.testing.BusyboxRootfs;
import dev.berth.shims.testing.ContainerTests;
import dev.berth.shims.v2.ShimV2Runtime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The shim v2 runtime's pool of daemons, against the real {@code containerd-shim-runc-v2} (root): tasks share a
 * daemon, which outlives their deletes for its linger and ends with the manager; concurrent creates spread over at
 * most the configured number of daemons; a daemon that dies takes every task on it, and the pool goes on with a new
 * one.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class ShimPoolTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final String NS = "h11-pool";

    @TempDir
    Path dir;
    Path state;
    Path rootfs;
    TaskManager tasks;

    @BeforeEach
    void requireRootRuncAndShim() throws IOException {
        ContainerTests.requirePrerequisites("the shim pool tests");
        state = dir.resolve("state").toAbsolutePath().normalize();
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
    }

    private void open(int perNamespace, Duration linger) {
        RuntimeSchedulers schedulers = RuntimeSchedulers.create("shim-pool-test");
        ShimV2Runtime.Config config = ShimV2Runtime.Config.defaults(state, schedulers)
                .withShimPool(perNamespace, linger);
        tasks = TaskManager.create(TaskManagerConfig.builder(ShimV2Runtime.create(config), schedulers)
                .ownsSchedulers(true)
                .build());
    }

    @AfterEach
    void closeAndCleanUp() throws Exception {
        if (state == null) {
            return;
        }
        try {
            if (tasks != null) {
                tasks.close().block(WAIT);
            }
        } finally {
            ContainerTests.removeLeftovers(state);
        }
    }

    @Test
    void sequentialTasksShareOneDaemonThatOutlivesTheirDeletesUntilClose() throws Exception {
        open(4, Duration.ofMinutes(5));
        Path first = socketOf(runToExit("one", "exit 3", 3));
        List<ProcessHandle> daemons = daemons();
        assertThat(daemons).as("the daemon lingers after its task's delete").hasSize(1);
        assertThat(first).exists();

        Path second = socketOf(runToExit("two", "exit 4", 4));
        assertThat(second).as("the second task went to the same daemon").isEqualTo(first);
        assertThat(daemons()).containsExactlyElementsOf(daemons);
        assertThat(Files.list(state.resolve(NS)).toList()).as("bundles are gone with their tasks").isEmpty();

        tasks.close().block(WAIT);
        daemons.get(0).onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(first).as("socket").doesNotExist();
        assertThat(homes()).as("shim homes").isEmpty();
        assertThat(daemons()).isEmpty();
    }

    @Test
    void concurrentTasksSpreadOverAtMostTheConfiguredDaemons() throws Exception {
        open(3, Duration.ofMinutes(5));
        List<Task> running = Flux.range(0, 8)
                .flatMap(i -> create("s" + i, ProcessSpec.builder("/bin/sleep", "60").stdio(Stdio.NULL).build())
                        .flatMap(t -> t.start().thenReturn(t)), 8)
                .collectList()
                .block(WAIT);
        Set<Path> sockets = new HashSet<>();
        for (Task t : running) {
            sockets.add(socketOf(t.id()));
        }
        assertThat(sockets).as("daemons used").hasSizeBetween(2, 3);
        assertThat(daemons()).hasSize(sockets.size());

        Flux.fromIterable(running)
                .flatMap(t -> t.kill(Signal.KILL).then(t.exit()).then(t.delete()))
                .then()
                .contextWrite(Namespaces.with(NS))
                .block(WAIT);
        assertThat(daemons()).as("idle daemons linger").hasSize(sockets.size());
        List<ProcessHandle> before = daemons();
        tasks.close().block(WAIT);
        for (ProcessHandle daemon : before) {
            daemon.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        assertThat(sockets.stream().filter(Files::exists).toList()).as("sockets left").isEmpty();
        assertThat(homes()).isEmpty();
    }

    @Test
    void anIdleDaemonEndsAfterItsLingerAndTheNextTaskStartsANewOne() throws Exception {
        open(4, Duration.ofMillis(200));
        Path first = socketOf(runToExit("one", "exit 0", 0));
        ProcessHandle daemon = daemons().get(0);

        daemon.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        Flux.interval(Duration.ofMillis(20)).filter(i -> homes().isEmpty()).next().block(WAIT);
        assertThat(first).doesNotExist();

        runToExit("two", "exit 0", 0);
        assertThat(daemons()).as("a new daemon").hasSize(1).doesNotContain(daemon);
    }

    @Test
    void aDaemonKilledUnderTwoTasksLosesBothAndTheNextTaskGetsANewDaemon() throws Exception {
        open(1, Duration.ofMinutes(5));
        Task a = start("a");
        Task b = start("b");
        assertThat(socketOf("a")).as("one daemon for both").isEqualTo(socketOf("b"));
        ProcessHandle daemon = daemons().get(0);

        daemon.destroyForcibly();
        daemon.onExit().get(WAIT.toSeconds(), TimeUnit.SECONDS);

        for (Task t : List.of(a, b)) {
            ExitStatus status = t.exit().block(WAIT);
            assertThat(status.kind()).as("exit of %s", t.id()).isEqualTo(ExitStatus.Kind.UNKNOWN);
            t.delete().contextWrite(Namespaces.with(NS)).block(WAIT);
        }
        assertThat(Files.list(state.resolve(NS)).toList()).as("bundles").isEmpty();
        Flux.interval(Duration.ofMillis(20)).filter(i -> homes().isEmpty()).next().block(WAIT);

        assertThat(runToExit("after", "exit 5", 5)).isEqualTo("after");
        assertThat(daemons()).hasSize(1).doesNotContain(daemon);
    }

    // ---- helpers

    private Mono<Task> create(String id, ProcessSpec process) {
        return tasks.create(TaskSpec.builder(id, process).runtime(ShimV2Runtime.NAME).rootfs(rootfs).build())
                .contextWrite(Namespaces.with(NS));
    }

    private Task start(String id) {
        Task task = create(id, ProcessSpec.builder("/bin/sleep", "60").stdio(Stdio.NULL).build()).block(WAIT);
        task.start().contextWrite(Namespaces.with(NS)).block(WAIT);
        return task;
    }

    /** Runs {@code sh -c script} to its exit (code {@code code}) and deletes it; returns the id. */
    private String runToExit(String id, String script, int code) throws IOException {
        Task task = create(id, ProcessSpec.builder("/bin/sh", "-c", script).stdio(Stdio.NULL).build()).block(WAIT);
        Path socket = socketOf(id);
        ExitStatus status = task.start().then(task.exit()).contextWrite(Namespaces.with(NS)).block(WAIT);
        assertThat(status.code()).hasValue(code);
        task.delete().contextWrite(Namespaces.with(NS)).block(WAIT);
        assertThat(state.resolve(NS).resolve(id)).doesNotExist();
        sockets.put(id, socket);
        return id;
    }

    private final java.util.Map<String, Path> sockets = new java.util.concurrent.ConcurrentHashMap<>();

    /** The daemon's socket of task {@code id}: its bundle's {@code address}, or what it was before its delete. */
    private Path socketOf(String id) throws IOException {
        Path address = state.resolve(NS).resolve(id).resolve("address");
        if (!Files.exists(address)) {
            return sockets.get(id);
        }
        return Path.of(Files.readString(address).strip().replace("unix://", ""));
    }

    private List<ProcessHandle> daemons() throws IOException {
        return ContainerTests.shimsOf(state.toString());
    }

    private List<Path> homes() {
        Path homes = state.resolve(".shims").resolve(NS);
        if (!Files.isDirectory(homes)) {
            return List.of();
        }
        try (Stream<Path> left = Files.list(homes)) {
            return left.toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
