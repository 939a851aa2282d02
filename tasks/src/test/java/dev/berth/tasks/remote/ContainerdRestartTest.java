package dev.berth.tasks.remote;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.Berth;
import dev.berth.core.Envelope;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.Namespaces;
import dev.berth.core.Process;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.core.Stdio;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.events.proto.containerd.events.TaskStart;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
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
import reactor.util.function.Tuple2;
import reactor.util.retry.Retry;
import reactor.util.function.Tuples;

/**
 * The daemon dies (SIGKILL) and comes back while Berth watches: a task that kept running through the outage and one
 * that exited during it both deliver their exit exactly once, through {@code exit()} and as one {@code /tasks/exit}
 * event each, and an events subscription opened before the outage goes on delivering after it, on the same Flux.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class ContainerdRestartTest {
    static final String NS = "h7-restart";
    static final Duration WAIT = Duration.ofSeconds(30);
    /** The filter of the subscriptions here: the task events of this test's namespace. */
    static final String TASK_EVENTS = "namespace==" + NS + ",topic~=\"^/tasks/\"";
    /**
     * The topic of the marker the remote service puts in a subscription where the daemon's stream broke (documented
     * in {@code RemoteEvents}): delivered whatever the filters, namespace {@code ""}.
     */
    static final String GAP_TOPIC = "/berth/events/gap";

    @RegisterExtension
    static final PrivateContainerd containerd = new PrivateContainerd(NS);
    static final AtomicInteger serial = new AtomicInteger();
    TaskService tasks;

    @BeforeEach
    void open() throws Exception {
        if (!containerd.isRunning()) {
            containerd.restart(); // an earlier test failed during its outage
        }
        List<String> left = containerd.removeAll(NS);
        if (!left.isEmpty()) {
            System.err.println("ContainerdRestartTest: an earlier test left " + left);
        }
        tasks = Berth.containerd(containerd.socket());
    }

    @AfterEach
    void close() throws Exception {
        if (!containerd.isRunning()) {
            containerd.restart();
        }
        if (tasks != null) {
            StepVerifier.create(tasks.close()).expectComplete().verify(WAIT);
        }
    }

    private static <T> Mono<T> inNs(Mono<T> call) {
        return call.contextWrite(Namespaces.with(NS));
    }

    private Task started(String id, String... args) throws Exception {
        return startedWithPid(id, args).getT1();
    }

    private Tuple2<Task, Integer> startedWithPid(String id, String... args) throws Exception {
        Task task = inNs(tasks.create(TaskSpec.builder(id, ProcessSpec.builder(args).stdio(Stdio.NULL).build())
                .rootfs(containerd.rootfs()).build())).block(WAIT);
        return Tuples.of(task, inNs(task.start()).block(WAIT));
    }

    /** A recording of a subscription: every envelope, and how the Flux ended if it did. */
    static final class Recording {
        final Sinks.Many<Envelope> envelopes = Sinks.many().replay().all();
        final AtomicReference<String> ended = new AtomicReference<>();
        final Disposable subscription;

        Recording(Flux<Envelope> events) {
            subscription = events.subscribe(this::record, e -> {
                ended.set("error " + e);
                envelopes.tryEmitError(e);
            }, () -> {
                ended.set("completion");
                envelopes.tryEmitComplete();
            });
        }

        /** Keeps every envelope; a failed emission (signals that overlapped) is recorded as the end. */
        private void record(Envelope e) {
            Sinks.EmitResult r = envelopes.tryEmitNext(e);
            if (r.isFailure()) {
                ended.compareAndSet(null, "emission of " + e.topic() + " failed: " + r);
            }
        }

        Flux<Envelope> flux() {
            return envelopes.asFlux();
        }

        /** The envelopes so far, whatever the end of the Flux. */
        List<Envelope> soFar() {
            return envelopes.asFlux().onErrorResume(e -> Flux.empty())
                    .take(Duration.ofMillis(200)).collectList().block(WAIT);
        }

        /** The first {@code topic} event of {@code containerId}, waiting up to {@link #WAIT} for it. */
        Envelope next(String topic, String containerId) {
            Envelope got = flux().filter(e -> e.topic().equals(topic) && containerIdOf(e).equals(containerId))
                    .next().timeout(WAIT, Mono.empty()).block();
            if (got == null) {
                throw new AssertionError("no " + topic + " of " + containerId + " within " + WAIT + "; got "
                        + soFar().stream().map(e -> e.topic() + " " + containerIdOf(e)).toList());
            }
            return got;
        }
    }

    static String containerIdOf(Envelope e) {
        if (!e.topic().startsWith("/tasks/")) {
            return ""; // e.g. the gap marker, whose payload is text
        }
        try {
            // Every task payload has container_id as field 1 (spec §2.4); read it without the event classes.
            com.google.protobuf.CodedInputStream in = e.event().getValue().newCodedInput();
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                if (tag == ((1 << 3) | 2)) {
                    return in.readString();
                }
                in.skipField(tag);
            }
            return "";
        } catch (java.io.IOException x) {
            throw new java.io.UncheckedIOException(x);
        }
    }

    @Test
    void exitsOfATaskThatRanThroughAndOneThatEndedDuringTheOutageArriveExactlyOnce() throws Exception {
        int round = serial.incrementAndGet();
        Path go = containerd.rootfs().resolve("tmp").resolve("go-" + round);
        Recording events = new Recording(tasks.events().subscribe(TASK_EVENTS));

        Task through = started("through", "/bin/sleep", "300");
        Tuple2<Task, Integer> duringAndPid = startedWithPid("during", "/bin/sh", "-c",
                "while [ ! -e /tmp/go-" + round + " ]; do sleep 0.05; done; exit 42");
        Task during = duringAndPid.getT1();
        Mono<ExitStatus> throughExit = through.exit();
        Mono<ExitStatus> duringExit = during.exit();
        // The subscription is live (not acknowledged otherwise, spec §2.4) once it delivered both starts.
        events.next("/tasks/start", "through");
        events.next("/tasks/start", "during");
        int duringPid = duringAndPid.getT2();

        containerd.kill();
        Files.createFile(go);
        ProcessHandle.of(duringPid).ifPresent(p -> {
            try {
                p.onExit().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                throw new AssertionError("the task did not exit during the outage", e);
            }
        });
        assertThat(containerd.answers()).as("still down").isFalse();
        containerd.restart();

        ExitStatus duringStatus = duringExit.block(WAIT);
        assertThat(duringStatus.code()).as("the exit of the outage, not an invented one").hasValue(42);
        inNs(through.kill(Signal.KILL)).block(WAIT);
        ExitStatus throughStatus = throughExit.block(WAIT);
        assertThat(throughStatus.signal()).contains(Signal.KILL);

        // Delete both; each /tasks/delete comes after its /tasks/exit, so by then every exit event is in.
        assertThat(inNs(during.delete()).block(WAIT)).isEqualTo(duringStatus);
        assertThat(inNs(through.delete()).block(WAIT)).isEqualTo(throughStatus);
        events.next("/tasks/delete", "during");
        events.next("/tasks/delete", "through");
        List<Envelope> all = events.soFar();
        events.subscription.dispose();

        assertThat(all.stream().filter(e -> e.topic().equals(GAP_TOPIC))).as("the gap is marked, in %s", all)
                .hasSize(1);
        assertThat(all.stream().filter(e -> e.topic().equals("/tasks/exit") && containerIdOf(e).equals("during")))
                .as("one /tasks/exit for the task that ended during the outage, in %s", all).hasSize(1);
        assertThat(all.stream().filter(e -> e.topic().equals("/tasks/exit") && containerIdOf(e).equals("through")))
                .as("one /tasks/exit for the task that ran through, in %s", all).hasSize(1);
        // Late subscribers still get the same cached exits, once.
        assertThat(during.exit().block(WAIT)).isEqualTo(duringStatus);
        assertThat(through.exit().block(WAIT)).isEqualTo(throughStatus);
    }

    @Test
    void aSubscriptionOpenedBeforeTheRestartDeliversEventsAfterItOnTheSameFlux() throws Exception {
        Recording events = new Recording(tasks.events().subscribe(TASK_EVENTS));
        started("before", "/bin/sleep", "300");
        events.next("/tasks/start", "before");

        containerd.kill();
        containerd.restart();

        // Only ctr acts after the restart: this test is about the subscription, not Berth's calls.
        // No blind wait for the resubscription: start tasks until one's start comes through (bounded).
        long deadline = System.nanoTime() + WAIT.toNanos();
        Envelope after = null;
        for (int i = 0; after == null; i++) {
            assertThat(System.nanoTime()).as("an event after the restart within %s", WAIT).isLessThan(deadline);
            String id = "after-" + i;
            containerd.runDetached(id, "/bin/true").orFail("run -d");
            after = events.flux().filter(e -> e.topic().equals("/tasks/start") && containerIdOf(e).equals(id))
                    .next().timeout(Duration.ofSeconds(2), Mono.empty()).block(WAIT);
        }
        containerd.ctr("tasks", "kill", "-s", "SIGKILL", "before").orFail("tasks kill");
        assertThat(events.next("/tasks/exit", "before")).isNotNull();
        assertThat(events.ended.get()).as("the Flux goes on through the restart").isNull();
        List<Envelope> all = events.soFar();
        assertThat(all).extracting(Envelope::topic).as("the gap is marked where the stream broke")
                .containsSubsequence("/tasks/start", GAP_TOPIC, "/tasks/start", "/tasks/exit");
        assertThat(all.stream().filter(e -> e.topic().equals(GAP_TOPIC))).hasSize(1);
        events.subscription.dispose();
    }

    /**
     * Once the daemon answers again, so does Berth: a call made then is not failed by a connection the client still
     * believes broken (gRPC's reconnect backoff grows to minutes over a long outage).
     */
    @Test
    void aCallMadeOnceTheDaemonAnswersAgainSucceeds() throws Exception {
        Task task = started("waited", "/bin/sleep", "300");
        Mono<ExitStatus> exit = task.exit(); // a pending Wait: the client tries to reconnect during the outage
        containerd.kill();
        // The outage lasts until the client has failed to reconnect at least once.
        StepVerifier.create(inNs(tasks.list().then()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE))
                .verify(WAIT);
        containerd.restart();
        assertThat(containerd.answers()).isTrue();
        assertThat(inNs(tasks.list().map(Task::id).collectList()).block(WAIT)).containsExactly("waited");
        inNs(task.kill(Signal.KILL)).block(WAIT);
        assertThat(exit.block(WAIT).signal()).contains(Signal.KILL);
        inNs(task.delete()).block(WAIT);
    }

    /**
     * A task ctr started exits while the daemon is down: Berth does not track it, so only the reconciliation from
     * {@code Tasks/List} (or the shim's own late event) can tell the subscriber. Either way, once.
     */
    @Test
    void theExitOfAForeignTaskDuringTheOutageReachesTheSubscriptionOnce() throws Exception {
        int round = serial.incrementAndGet();
        Recording events = new Recording(tasks.events().subscribe(TASK_EVENTS));
        containerd.runDetached("foreign", "/bin/sh", "-c",
                "while [ ! -e /tmp/go-" + round + " ]; do sleep 0.05; done; exit 7").orFail("run -d");
        TaskStart start = TaskStart.parseFrom(events.next("/tasks/start", "foreign").event().getValue());

        containerd.kill();
        Files.createFile(containerd.rootfs().resolve("tmp").resolve("go-" + round));
        awaitGone(start.getPid());
        containerd.restart();

        TaskExit exit = TaskExit.parseFrom(events.next("/tasks/exit", "foreign").event().getValue());
        assertThat(exit.getExitStatus()).isEqualTo(7);
        containerd.ctr("tasks", "rm", "foreign").orFail("tasks rm");
        events.next("/tasks/delete", "foreign");
        List<Envelope> all = events.soFar();
        events.subscription.dispose();
        assertThat(all.stream().filter(e -> e.topic().equals("/tasks/exit") && containerIdOf(e).equals("foreign")))
                .as("one /tasks/exit, in %s", all).hasSize(1);
        assertThat(all.stream().filter(e -> e.topic().equals(GAP_TOPIC))).hasSize(1);
    }

    /** An exec that exits during the outage: its own exit arrives once, the init's is untouched. */
    @Test
    void anExecThatExitsDuringTheOutageDeliversItsExitOnce() throws Exception {
        int round = serial.incrementAndGet();
        Recording events = new Recording(tasks.events().subscribe(TASK_EVENTS));
        Task host = started("exec-host", "/bin/sleep", "300");
        Process exec = inNs(host.exec("e1", ProcessSpec.builder("/bin/sh", "-c",
                "while [ ! -e /tmp/go-" + round + " ]; do sleep 0.05; done; exit 5").stdio(Stdio.NULL).build()))
                .block(WAIT);
        Mono<ExitStatus> execExit = exec.exit();
        int execPid = inNs(exec.start()).block(WAIT);
        events.next("/tasks/exec-started", "exec-host");

        containerd.kill();
        Files.createFile(containerd.rootfs().resolve("tmp").resolve("go-" + round));
        awaitGone(execPid);
        containerd.restart();

        ExitStatus status = execExit.block(WAIT);
        assertThat(status.code()).hasValue(5);
        Envelope exitEvent = events.flux()
                .filter(e -> e.topic().equals("/tasks/exit"))
                .filter(e -> parseExit(e).getId().equals("e1"))
                .next().block(WAIT);
        assertThat(parseExit(exitEvent).getExitStatus()).isEqualTo(5);
        // Cleanup through Berth after the restart; retried, as a call right after a restart may fail (see
        // aCallMadeOnceTheDaemonAnswersAgainSucceeds), which is not what this test is about.
        assertThat(retried(inNs(host.status()))).isEqualTo(dev.berth.core.TaskStatus.RUNNING);
        assertThat(retried(inNs(exec.delete()))).isEqualTo(status);
        containerd.ctr("tasks", "kill", "-s", "SIGKILL", "exec-host").orFail("tasks kill");
        assertThat(host.exit().block(WAIT).signal()).contains(Signal.KILL);
        retried(inNs(host.delete()));
        events.next("/tasks/delete", "exec-host");
        List<Envelope> all = events.soFar();
        events.subscription.dispose();
        assertThat(all.stream().filter(e -> e.topic().equals("/tasks/exit")).map(e -> parseExit(e).getId()))
                .as("one exit each for the exec and the init, in %s", all).containsExactlyInAnyOrder("e1", "exec-host");
    }

    private static TaskExit parseExit(Envelope e) {
        try {
            return TaskExit.parseFrom(e.event().getValue());
        } catch (com.google.protobuf.InvalidProtocolBufferException x) {
            throw new AssertionError("not a TaskExit: " + e, x);
        }
    }

    private static <T> T retried(Mono<T> call) {
        return call.retryWhen(Retry.backoff(10, Duration.ofMillis(100))
                        .filter(e -> Errors.is(e, ErrorKind.UNAVAILABLE)))
                .block(WAIT);
    }

    /** Waits until the host process {@code pid} (a container process, no child of ours) has ended. */
    private static void awaitGone(int pid) throws Exception {
        java.util.Optional<ProcessHandle> p = ProcessHandle.of(pid);
        if (p.isPresent()) {
            p.get().onExit().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** A task Berth did not create but got from the daemon: its exit during the outage still arrives. */
    @Test
    void theExitOfAnAdoptedTaskDuringTheOutageCompletesItsExit() throws Exception {
        int round = serial.incrementAndGet();
        containerd.runDetached("adopted", "/bin/sh", "-c",
                "while [ ! -e /tmp/go-" + round + " ]; do sleep 0.05; done; exit 9").orFail("run -d");
        Task task = inNs(tasks.get("adopted")).block(WAIT);
        Mono<ExitStatus> exit = task.exit();
        int pid = inNs(task.pids().next()).block(WAIT).pid();

        containerd.kill();
        Files.createFile(containerd.rootfs().resolve("tmp").resolve("go-" + round));
        awaitGone(pid);
        containerd.restart();

        assertThat(exit.block(WAIT).code()).hasValue(9);
        assertThat(retried(inNs(task.delete())).code()).hasValue(9);
    }

    /** Closing the service while the daemon is down ends in bounded time, and the tasks keep running. */
    @Test
    void closingTheServiceWhileTheDaemonIsDownCompletesAndLeavesTheTasks() throws Exception {
        started("orphan", "/bin/sleep", "300");
        containerd.kill();
        StepVerifier.create(tasks.close()).expectComplete().verify(WAIT);
        tasks = null;
        containerd.restart();
        assertThat(containerd.ctr("tasks", "ls").output()).containsPattern("orphan\\s+\\d+\\s+RUNNING");
    }
}
