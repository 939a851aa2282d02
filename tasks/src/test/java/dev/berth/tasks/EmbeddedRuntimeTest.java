package dev.berth.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.ProcessSpec;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Signal;
import dev.berth.core.Stdio;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import dev.berth.shims.embedded.EmbeddedRuntime;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** What the embedded runtime promises beyond the behaviour suite: descriptors, groups, drain, close. */
class EmbeddedRuntimeTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private TaskService tasks;

    private TaskService service(Duration drainTimeout, Duration stopGrace) {
        RuntimeSchedulers schedulers = RuntimeSchedulers.create("test");
        tasks = TaskManager.create(TaskManagerConfig.builder(
                        EmbeddedRuntime.create(EmbeddedRuntime.Config.defaults(schedulers)
                                .withDrainTimeout(drainTimeout)), schedulers)
                .stopGrace(stopGrace)
                .ownsSchedulers(true)
                .build());
        return tasks;
    }

    private TaskService service() {
        return service(EmbeddedRuntime.DEFAULT_DRAIN_TIMEOUT, Duration.ofSeconds(5));
    }

    @AfterEach
    void close() {
        if (tasks != null) {
            tasks.close().block(WAIT);
        }
    }

    private static Mono<String> text(Flux<ByteBuffer> output) {
        return TaskServiceBehaviour.text(output);
    }

    @Test
    void updateAndMetricsAreNotImplementedForHostProcesses() {
        Task task = service().create(TaskSpec.process("host", "sleep", "60")).block(WAIT);
        task.start().block(WAIT);
        assertThat(dev.berth.core.Errors.kindOf(org.assertj.core.api.Assertions.catchThrowable(
                () -> task.metrics().block(WAIT)))).isEqualTo(dev.berth.core.ErrorKind.NOT_IMPLEMENTED);
        assertThat(dev.berth.core.Errors.kindOf(org.assertj.core.api.Assertions.catchThrowable(
                () -> task.update(new dev.berth.core.oci.LinuxResources(java.util.List.of(), null, null,
                        new dev.berth.core.oci.LinuxResources.Pids(5), java.util.Map.of())).block(WAIT))))
                .isEqualTo(dev.berth.core.ErrorKind.NOT_IMPLEMENTED);
        task.delete(true).block(WAIT);
    }

    @Test
    void childrenSeeOnlyTheirThreeStandardDescriptors() {
        Task task = service().create(TaskSpec.process("fds", "ls", "/proc/self/fd")).block(WAIT);
        String out = task.start().then(text(task.stdout())).block(WAIT);
        // 0, 1, 2 and the directory ls itself opened to list them
        assertThat(out.split("\n")).hasSizeLessThanOrEqualTo(4).contains("0", "1", "2");
        task.exit().then(task.delete()).block(WAIT);
    }

    @Test
    void eachTaskLeadsItsOwnProcessGroupAndExecsJoinIt() throws IOException {
        Task task = service().create(TaskSpec.process("group", "sleep", "60")).block(WAIT);
        int pid = task.start().block(WAIT);
        assertThat(processGroup(pid)).isEqualTo(pid);
        var exec = task.exec("e1", ProcessSpec.of("sleep", "60")).block(WAIT);
        int execPid = exec.start().block(WAIT);
        assertThat(processGroup(execPid)).isEqualTo(pid);
        assertThat(task.pids().map(p -> p.pid()).collectList().block(WAIT)).containsExactly(pid, execPid);
        assertThat(task.pids().filter(p -> p.pid() == execPid).map(p -> p.execId()).blockFirst(WAIT))
                .isEqualTo("e1");
        task.delete(true).block(WAIT);
        StepVerifier.create(exec.exit()).expectNextMatches(s -> s.signal().isPresent()).expectComplete().verify(WAIT);
    }

    @Test
    void pausedProcessesAreStoppedAndResumedOnesRunAgain() throws IOException {
        Task task = service().create(TaskSpec.process("paused", "sleep", "60")).block(WAIT);
        int pid = task.start().block(WAIT);
        task.pause().block(WAIT);
        assertThat(processState(pid)).isEqualTo("T");
        task.resume().block(WAIT);
        assertThat(processState(pid)).isIn("S", "R");
        task.delete(true).block(WAIT);
    }

    @Test
    void aDescendantHoldingThePipeCannotHangTheOutputAfterTheExit() {
        // The descendant leaves the task's group (setsid), so the end of the task does not take it along. It says
        // "started" once it has; only then does the init, blocked reading its stdin, get to exit.
        ProcessSpec spec = ProcessSpec.builder("sh", "-c", "setsid sh -c 'echo started; exec sleep 3' & read line; exit 0")
                .stdio(Stdio.DEFAULT.withStdinPipe()).build();
        Task task = service(Duration.ofMillis(300), Duration.ofSeconds(5))
                .create(TaskSpec.of("grandchild", spec)).block(WAIT);
        StepVerifier.create(task.stdout().map(b -> StandardCharsets.UTF_8.decode(b).toString()))
                .then(() -> task.start().subscribe())
                .expectNext("started\n")
                .then(() -> task.closeStdin().subscribe())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.DEADLINE_EXCEEDED))
                .verify(WAIT);
        assertThat(task.exit().block(WAIT).isSuccess()).isTrue();
        task.delete().block(WAIT);
    }

    @Test
    void aReaderThatStopsRequestingStopsTheWriter() {
        Task task = service().create(TaskSpec.process("backpressure", "sh", "-c",
                "head -c 4194304 /dev/zero; echo done >&2")).block(WAIT);
        Mono<String> err = text(task.stderr()).cache();
        err.subscribe();
        StepVerifier.create(task.stdout(), 1)
                .then(() -> task.start().subscribe())
                .expectNextCount(1)
                // With one buffer requested the 4 MiB cannot pass the pipe: the writer is blocked.
                .expectNoEvent(Duration.ofMillis(500))
                .then(() -> assertThat(task.exit().toFuture()).isNotDone())
                .thenRequest(Long.MAX_VALUE)
                .thenConsumeWhile(b -> true)
                .expectComplete()
                .verify(WAIT);
        assertThat(err.block(WAIT)).isEqualTo("done\n");
        assertThat(task.exit().block(WAIT).isSuccess()).isTrue();
        task.delete().block(WAIT);
    }

    @Test
    void stdinFromAPublisherArrivesWholeThroughCat() {
        byte[] data = new byte[8 * 1024 * 1024 + 17];
        new Random(42).nextBytes(data);
        Task task = service().create(TaskSpec.of("cat-big",
                ProcessSpec.builder("cat").stdio(Stdio.DEFAULT.withStdinPipe()).build())).block(WAIT);
        Flux<ByteBuffer> chunks = Flux.range(0, (data.length + 65535) / 65536)
                .map(i -> ByteBuffer.wrap(data, i * 65536, Math.min(65536, data.length - i * 65536)));
        Mono<byte[]> out = task.stdout()
                .reduce(new java.io.ByteArrayOutputStream(), (bos, b) -> {
                    byte[] chunk = new byte[b.remaining()];
                    b.get(chunk);
                    bos.writeBytes(chunk);
                    return bos;
                })
                .map(java.io.ByteArrayOutputStream::toByteArray);
        byte[] got = Mono.zip(out, task.writeStdin(chunks).thenReturn(true), task.start())
                .map(t -> t.getT1()).block(WAIT);
        assertThat(Arrays.equals(got, data)).isTrue();
        task.exit().then(task.delete()).block(WAIT);
    }

    @Test
    void outputCanBeAppendedToAFileOrDiscarded(@TempDir Path dir) throws IOException {
        Path log = dir.resolve("out.log");
        Files.writeString(log, "before\n");
        TaskService service = service();
        ProcessSpec spec = ProcessSpec.builder("sh", "-c", "echo out; echo err >&2")
                .stdio(new Stdio(Stdio.Input.NULL, Stdio.Output.appendTo(log), Stdio.Output.NULL)).build();
        Task task = service.create(TaskSpec.of("to-file", spec)).block(WAIT);
        task.start().then(task.exit()).then(task.delete()).block(WAIT);
        assertThat(Files.readString(log)).isEqualTo("before\nout\n");
        StepVerifier.create(task.stderr())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
    }

    @Test
    void envAndCwdReachTheProcess(@TempDir Path dir) throws IOException {
        ProcessSpec spec = ProcessSpec.builder("sh", "-c", "echo $BERTH_TEST; pwd")
                .env("BERTH_TEST", "from-spec").cwd(dir.toString()).build();
        Task task = service().create(TaskSpec.of("env", spec)).block(WAIT);
        String out = task.start().then(text(task.stdout())).block(WAIT);
        assertThat(out).isEqualTo("from-spec\n" + dir.toRealPath() + "\n");
        task.exit().then(task.delete()).block(WAIT);
    }

    @Test
    void aNonExecutableProgramFailsCreateWithPermissionDenied(@TempDir Path dir) throws IOException {
        Path script = Files.writeString(dir.resolve("script.sh"), "#!/bin/sh\necho hi\n");
        StepVerifier.create(service().create(TaskSpec.process("noexec", script.toString())))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.PERMISSION_DENIED))
                .verify(WAIT);
        StepVerifier.create(tasks.create(TaskSpec.of("badcwd",
                        ProcessSpec.builder("true").cwd(dir.resolve("missing").toString()).build())))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(WAIT);
        StepVerifier.create(tasks.create(TaskSpec.builder("rootfs", ProcessSpec.of("true")).rootfs(dir).build()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(WAIT);
    }

    @Test
    void aProgramRemovedAfterCreateFailsStartTypedWithNoPhantomExit(@TempDir Path dir) throws IOException {
        Path script = Files.writeString(dir.resolve("gone.sh"), "#!/bin/sh\nexit 0\n");
        script.toFile().setExecutable(true);
        Task task = service().create(TaskSpec.process("gone", script.toString())).block(WAIT);
        Files.delete(script);
        StepVerifier.create(task.start())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
        StepVerifier.create(task.delete()).expectComplete().verify(WAIT);
        StepVerifier.create(task.exit()).expectComplete().verify(WAIT); // no exit was invented
    }

    @Test
    void closingTheServiceTerminatesThenKillsAndReapsItsTasks() throws IOException {
        TaskService service = service(EmbeddedRuntime.DEFAULT_DRAIN_TIMEOUT, Duration.ofMillis(300));
        Task polite = service.create(TaskSpec.process("polite", "sleep", "60")).block(WAIT);
        Task stubborn = service.create(TaskSpec.process("stubborn", "sh", "-c",
                "trap '' TERM; echo ready; while :; do sleep 0.05; done")).block(WAIT);
        int politePid = polite.start().block(WAIT);
        Mono<String> ready = stubborn.stdout().map(b -> StandardCharsets.UTF_8.decode(b).toString()).next();
        stubborn.start().then(ready).block(WAIT); // the trap is set
        service.close().block(WAIT);
        tasks = null;
        assertThat(polite.exit().block(WAIT).signal()).contains(Signal.TERM);
        assertThat(stubborn.exit().block(WAIT).signal()).contains(Signal.KILL);
        assertThat(Files.exists(Path.of("/proc/" + politePid))).isFalse();
        assertThat(TaskServiceBehaviour.childrenOfThisJvm()).isEmpty();
        StepVerifier.create(service.create(TaskSpec.process("late", "true")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE))
                .verify(WAIT);
    }

    private static String processState(int pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[0];
    }

    private static int processGroup(int pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[2]);
    }
}
