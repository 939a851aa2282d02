package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.ProcessSpec;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Stdio;
import dev.berth.core.TaskSpec;
import dev.berth.core.os.Syscalls;
import dev.berth.shims.testing.BusyboxRootfs;
import dev.berth.shims.testing.ContainerTests;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The init's stdout and stderr read straight from the container's pipes ({@link StdoutHandoff}), against the real
 * {@code containerd-shim-runc-v2}, as root: the output is whole and ends after the exit though the shim keeps the
 * write ends, reading follows demand, the sleeper the shim runs for us lives exactly as long as the task (or its
 * shim), and a task with a stdin pipe keeps its FIFOs. Each test has its own {@code h10-*} namespace.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class StdoutHandoffTest {
    static final Duration BOUND = Duration.ofSeconds(30);

    final RuntimeSchedulers schedulers = RuntimeSchedulers.create("h10-handoff-it");

    @TempDir
    Path dir;
    Path state;
    Path rootfs;
    V2ShimManager manager;

    @BeforeEach
    void requireRootRuncAndShim() throws IOException {
        ContainerTests.requirePrerequisites("the stdio handoff tests");
        state = dir.resolve("state");
        rootfs = BusyboxRootfs.create(dir.resolve("rootfs"));
        manager = V2ShimManager.start(state, schedulers, Syscalls.linux(), null, null, Duration.ofSeconds(2));
    }

    @AfterEach
    void cleanUp() throws Exception {
        try {
            if (manager != null) {
                manager.close().block(BOUND);
            }
        } finally {
            try {
                ContainerTests.removeLeftovers(state);
            } finally {
                schedulers.dispose();
            }
        }
    }

    @Test
    void theInitsOutputComesWholeFromTheContainersPipesAndEndsAfterTheExit() throws Exception {
        String ns = namespace("h10-whole");
        // 4 MiB on stdout, then a line on stderr: more than the pipes hold, so the reads must keep up.
        V2Shim shim = create(ns, "web", ProcessSpec.of("/bin/sh", "-c",
                "dd if=/dev/zero bs=65536 count=64 2>/dev/null; echo done >&2"));
        Path pidFile = StdoutHandoff.pidFile(shim.bundle());
        long sleeper = Long.parseLong(Files.readString(pidFile).strip());
        ProcessHandle handle = ProcessHandle.of(sleeper).orElseThrow();
        assertThat(handle.parent().map(ProcessHandle::pid)).as("the shim's child").contains((long) shim.shimPid());
        assertThat(Files.exists(shim.bundle().path().resolve("web-stdout"))).as("no FIFO made").isFalse();
        assertThat(loggersOf(ns)).containsExactly(sleeper);

        Mono<Long> out = shim.init().stdout().map(ByteBuffer::remaining).map(Long::valueOf).reduce(0L, Long::sum);
        Mono<String> err = text(shim.init().stderr());
        Mono<ExitStatus> exit = shim.init().exit();
        StepVerifier.create(Mono.zip(out, err, shim.init().start().then(exit)))
                .assertNext(t -> {
                    assertThat(t.getT1()).isEqualTo(64L * 65536);
                    assertThat(t.getT2()).isEqualTo("done\n");
                    assertThat(t.getT3().code()).hasValue(0);
                })
                .expectComplete()
                .verify(BOUND);
        assertThat(handle.isAlive()).as("the sleeper waits for Delete").isTrue();

        StepVerifier.create(shim.delete()).expectComplete().verify(BOUND);
        handle.onExit().get(BOUND.toSeconds(), TimeUnit.SECONDS);
        assertThat(loggersOf(ns)).isEmpty();
        assertThat(Files.exists(shim.bundle().path())).as("bundle removed").isFalse();
    }

    @Test
    void aSubscriberThatStopsReadingStopsTheWriter() throws Exception {
        String ns = namespace("h10-backpressure");
        V2Shim shim = create(ns, "web", ProcessSpec.of("/bin/sh", "-c", "dd if=/dev/zero bs=65536 count=64"));
        Mono<ExitStatus> exit = shim.init().exit();
        shim.init().start().block(BOUND);
        // One buffer taken, then no demand: the container blocks in write(2) once the pipe is full.
        StepVerifier.create(shim.init().stdout().map(ByteBuffer::remaining), 1)
                .expectNextCount(1)
                .expectNoEvent(Duration.ofMillis(500))
                .then(() -> assertThat(exit.toFuture()).as("the writer is held up").isNotDone())
                .thenRequest(Long.MAX_VALUE)
                .thenConsumeWhile(n -> true)
                .expectComplete()
                .verify(BOUND);
        // dd's summary on stderr was drained too (nobody subscribed: it is read and dropped at the end).
        assertThat(exit.block(BOUND).code()).hasValue(0);
        StepVerifier.create(shim.delete()).expectComplete().verify(BOUND);
    }

    @Test
    void aKilledShimTakesTheSleeperAlong() throws Exception {
        String ns = namespace("h10-killed");
        V2Shim shim = create(ns, "web", ProcessSpec.of("/bin/sleep", "1000"));
        long sleeper = Long.parseLong(Files.readString(StdoutHandoff.pidFile(shim.bundle())).strip());
        ProcessHandle handle = ProcessHandle.of(sleeper).orElseThrow();
        shim.init().start().block(BOUND);

        ProcessHandle daemon = ProcessHandle.of(shim.shimPid()).orElseThrow();
        daemon.destroyForcibly();
        daemon.onExit().get(BOUND.toSeconds(), TimeUnit.SECONDS);

        handle.onExit().get(BOUND.toSeconds(), TimeUnit.SECONDS); // stopped by the loss's cleanup
        StepVerifier.create(shim.lost()).expectComplete().verify(BOUND);
        assertThat(loggersOf(ns)).isEmpty();
    }

    @Test
    void aFailedCreateLeavesNoSleeper() throws Exception {
        String ns = namespace("h10-failed");
        StepVerifier.create(manager.create(ns, TaskSpec.builder("web", ProcessSpec.of("/no/such/program"))
                        .rootfs(rootfs).build()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(BOUND);
        assertThat(Files.exists(state.resolve(ns).resolve("web"))).as("bundle removed").isFalse();
        // The shim never closes a failed Create's io, and the pooled daemon stays for the next task: Berth stops
        // the sleeper itself.
        assertThat(ContainerTests.shimsOf(ShimStart.privateAddress(state))).as("the daemon lingers").hasSize(1);
        assertThat(awaitNoLoggers(ns)).isEmpty();
    }

    @Test
    void aTaskWithAStdinPipeKeepsItsFifos() throws Exception {
        String ns = namespace("h10-stdin");
        V2Shim shim = create(ns, "web", ProcessSpec.builder("/bin/cat").stdio(Stdio.DEFAULT.withStdinPipe()).build());
        assertThat(Files.exists(shim.bundle().path().resolve("web-stdout"))).isTrue();
        assertThat(Files.exists(StdoutHandoff.pidFile(shim.bundle()))).isFalse();
        assertThat(loggersOf(ns)).isEmpty();
        Mono<String> out = text(shim.init().stdout());
        Mono<ExitStatus> exit = shim.init().exit();
        StepVerifier.create(shim.init().start()
                        .then(shim.init().writeStdin(Flux.just(ByteBuffer.wrap("echo\n".getBytes()))))
                        .then(shim.init().closeStdin())
                        .then(Mono.zip(out, exit)))
                .assertNext(t -> assertThat(t.getT1()).isEqualTo("echo\n"))
                .expectComplete()
                .verify(BOUND);
        StepVerifier.create(shim.delete()).expectComplete().verify(BOUND);
    }

    @Test
    void aDetachedTaskRestoredByANewManagerIsReadThroughItsSleeperAgain() throws Exception {
        String ns = namespace("h10-restore");
        V2Shim shim = create(ns, "web", ProcessSpec.of("/bin/sh", "-c", "echo before; exec sleep 1000"));
        shim.init().start().block(BOUND);
        // Nobody read it: what the container wrote waits in the pipe, held open by the sleeper.
        StepVerifier.create(shim.detach()).expectComplete().verify(BOUND);
        manager.close().block(BOUND);
        manager = V2ShimManager.start(state, schedulers, Syscalls.linux(), null, null, Duration.ofSeconds(2));

        List<dev.berth.shims.RestoredShim> restored = manager.restore().collectList().block(BOUND);
        assertThat(restored).hasSize(1);
        assertThat(restored.get(0).spec().process().stdio().stdout()).isEqualTo(Stdio.Output.PIPE);
        dev.berth.shims.ShimProcess init = restored.get(0).shim().init();
        Mono<String> out = text(init.stdout());
        Mono<ExitStatus> exit = init.exit();
        StepVerifier.create(Mono.zip(out, init.kill(dev.berth.core.Signal.KILL).then(exit)))
                .assertNext(t -> assertThat(t.getT1()).isEqualTo("before\n"))
                .expectComplete()
                .verify(BOUND);
        StepVerifier.create(restored.get(0).shim().delete()).expectComplete().verify(BOUND);
        assertThat(awaitNoLoggers(ns)).isEmpty();
    }

    @Test
    void theTargetEncodesOddPathsForGosUrlParser() {
        StdoutHandoff handoff = new StdoutHandoff(Path.of("/var/state dir"), Syscalls.linux(), schedulers);
        Bundle bundle = new Bundle("h10", "web", Path.of("/var/state dir/h10/web"));
        assertThat(handoff.target(bundle)).isEqualTo(
                "binary:///var/state%20dir/.bin/stdio-handoff?pidfile=%2Fvar%2Fstate%20dir%2Fh10%2Fweb%2F"
                        + StdoutHandoff.PID_FILE);
    }

    // ---- helpers

    /** The processes whose environment names namespace {@code ns} as a shim's binary:// logger's does. */
    static List<Long> loggersOf(String ns) {
        String marker = "CONTAINER_NAMESPACE=" + ns;
        return ProcessHandle.allProcesses().map(ProcessHandle::pid).filter(pid -> {
            try {
                String env = Files.readString(Path.of("/proc", Long.toString(pid), "environ"),
                        StandardCharsets.ISO_8859_1);
                return List.of(env.split("\0")).contains(marker);
            } catch (IOException | java.io.UncheckedIOException e) {
                return false;
            }
        }).toList();
    }

    /** The loggers of {@code ns} once each has exited, or those still there after the bound. */
    private static List<Long> awaitNoLoggers(String ns) throws Exception {
        for (long pid : loggersOf(ns)) {
            ProcessHandle.of(pid).ifPresent(h -> h.onExit().orTimeout(BOUND.toSeconds(), TimeUnit.SECONDS).join());
        }
        return loggersOf(ns);
    }

    private String namespace(String ns) {
        return ns;
    }

    private V2Shim create(String ns, String id, ProcessSpec process) {
        return (V2Shim) manager.create(ns, TaskSpec.builder(id, process).rootfs(rootfs).build()).block(BOUND);
    }

    private static Mono<String> text(Flux<ByteBuffer> output) {
        return output.reduce(new StringBuilder(), (sb, b) -> sb.append(StandardCharsets.UTF_8.decode(b)))
                .map(StringBuilder::toString)
                .defaultIfEmpty("");
    }

}
