package dev.berth.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.berth.core.Envelope;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.events.proto.containerd.events.NamespaceCreate;
import dev.berth.events.proto.containerd.events.TaskStart;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;
import reactor.test.publisher.PublisherProbe;
import reactor.test.scheduler.VirtualTimeScheduler;

class OrderedHandlerTest {
    static final Duration TIMEOUT = Duration.ofSeconds(5);
    static final Instant NOW = Instant.parse("2024-05-01T12:00:00Z");

    static Envelope start(String id, int pid) {
        return new Envelope(NOW, "default", "/tasks/start",
                EventTypes.pack(TaskStart.newBuilder().setContainerId(id).setPid(pid).build()));
    }

    static String label(Envelope e) {
        TaskStart s = EventTypes.unpack(e.event(), TaskStart.class);
        return s.getContainerId() + ":" + s.getPid();
    }

    /** A container id whose lane (out of {@code lanes}) differs from {@code other}'s. */
    static String idInAnotherLane(String other, int lanes) {
        int taken = OrderedHandler.lane(OrderedHandler.key(start(other, 0)), lanes);
        return IntStream.range(0, 1000).mapToObj(i -> "db" + i)
                .filter(id -> OrderedHandler.lane(OrderedHandler.key(start(id, 0)), lanes) != taken)
                .findFirst().orElseThrow();
    }

    @Test
    void eventsOfOneTaskWaitForEachOtherWhileOtherTasksProceed() {
        String db = idInAnotherLane("web", 4);
        List<String> started = new CopyOnWriteArrayList<>();
        Map<String, Sinks.Empty<Void>> running = new ConcurrentHashMap<>();
        Flux<Envelope> events = Flux.just(start("web", 1), start(db, 1), start("web", 2), start(db, 2));

        StepVerifier.create(OrderedHandler.handle(events, e -> {
                    started.add(label(e));
                    return running.computeIfAbsent(label(e), k -> Sinks.empty()).asMono();
                }, 4))
                .then(() -> assertThat(started).containsExactly("web:1", db + ":1"))
                .then(() -> running.get(db + ":1").emitEmpty(Sinks.EmitFailureHandler.FAIL_FAST))
                .then(() -> assertThat(started).containsExactly("web:1", db + ":1", db + ":2"))
                .then(() -> running.get("web:1").emitEmpty(Sinks.EmitFailureHandler.FAIL_FAST))
                .then(() -> assertThat(started).containsExactly("web:1", db + ":1", db + ":2", "web:2"))
                .then(() -> running.get(db + ":2").emitEmpty(Sinks.EmitFailureHandler.FAIL_FAST))
                .then(() -> running.get("web:2").emitEmpty(Sinks.EmitFailureHandler.FAIL_FAST))
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void perTaskOrderHoldsUnderConcurrencyFourWithDelayedHandlersAndTasksInterleave() {
        int tasks = 8;
        int perTask = 25;
        List<Envelope> events = new ArrayList<>();
        for (int n = 0; n < perTask; n++) {
            for (int t = 0; t < tasks; t++) {
                events.add(start("c" + t, n));
            }
        }
        long serialMillis = 0;
        for (int k = 0; k < events.size(); k++) {
            serialMillis += delayOf(k);
        }
        List<String> finished = new CopyOnWriteArrayList<>();
        VirtualTimeScheduler time = VirtualTimeScheduler.create();

        StepVerifier.withVirtualTime(() -> OrderedHandler.handle(Flux.fromIterable(events),
                                e -> Mono.delay(Duration.ofMillis(delayOf(events.indexOf(e))), time)
                                        .then(Mono.fromRunnable(() -> finished.add(label(e)))), 4),
                        () -> time, Long.MAX_VALUE)
                .thenAwait(Duration.ofMillis(serialMillis))
                .expectComplete()
                .verify(TIMEOUT);

        assertThat(finished).hasSize(tasks * perTask);
        Map<String, List<Integer>> byTask = new HashMap<>();
        for (String f : finished) {
            String[] parts = f.split(":");
            byTask.computeIfAbsent(parts[0], k -> new ArrayList<>()).add(Integer.parseInt(parts[1]));
        }
        List<Integer> inOrder = IntStream.range(0, perTask).boxed().collect(Collectors.toList());
        byTask.values().forEach(pids -> assertThat(pids).isEqualTo(inOrder));
        // Different tasks interleave: the first task is not finished before others have begun finishing.
        String first = finished.get(0).split(":")[0];
        int lastOfFirst = finished.lastIndexOf(first + ":" + (perTask - 1));
        assertThat(finished.subList(0, lastOfFirst).stream().map(f -> f.split(":")[0]).distinct().count())
                .isGreaterThan(1);
    }

    @Test
    void lanesRunConcurrentlySoTheTotalTimeIsBelowTheSerialTime() {
        List<Envelope> events = IntStream.range(0, 64).mapToObj(i -> start("c" + i, 0))
                .collect(Collectors.toList());
        VirtualTimeScheduler time = VirtualTimeScheduler.create();
        // 64 tasks, each handled in 10 ms, four lanes: about 16 x 10 ms when the lanes are balanced, never 640 ms.
        StepVerifier.withVirtualTime(() -> OrderedHandler.handle(Flux.fromIterable(events),
                                e -> Mono.delay(Duration.ofMillis(10), time).then(), 4),
                        () -> time, Long.MAX_VALUE)
                .thenAwait(Duration.ofMillis(400))
                .expectComplete()
                .verify(TIMEOUT);
    }

    static long delayOf(int k) {
        return 1 + (k * 7L) % 5;
    }

    @Test
    void aFailingHandlerFailsTheResultAndCancelsTheSource() {
        PublisherProbe<Envelope> source = PublisherProbe.of(Flux.just(start("web", 1), start("web", 2))
                .concatWith(Flux.never()));
        StepVerifier.create(OrderedHandler.handle(source.flux(), e -> label(e).equals("web:2")
                        ? Mono.error(Errors.internal("handler of %s failed", label(e)))
                        : Mono.empty(), 4))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INTERNAL))
                .verify(TIMEOUT);
        source.assertWasCancelled();
    }

    @Test
    void cancellingCancelsTheSourceAndTheRunningHandler() {
        PublisherProbe<Envelope> source = PublisherProbe.of(Flux.just(start("web", 1)).concatWith(Flux.never()));
        PublisherProbe<Void> handling = PublisherProbe.of(Mono.never());
        StepVerifier.create(OrderedHandler.handle(source.flux(), e -> handling.mono(), 2))
                .then(handling::assertWasSubscribed)
                .thenCancel()
                .verify(TIMEOUT);
        source.assertWasCancelled();
        handling.assertWasCancelled();
    }

    @Test
    void theKeyIsNamespaceAndContainerIdOrElseNamespaceAndTopic() {
        assertThat(OrderedHandler.key(start("web", 1))).isEqualTo("default/web");
        assertThat(OrderedHandler.key(new Envelope(NOW, "k8s.io", "/namespaces/create",
                EventTypes.pack(NamespaceCreate.newBuilder().setName("x").build()))))
                .isEqualTo("k8s.io/namespaces/create");
        assertThat(OrderedHandler.key(new Envelope(NOW, "default", "/custom/thing",
                Any.newBuilder().setTypeUrl("example.Unknown").setValue(ByteString.copyFromUtf8("?")).build())))
                .isEqualTo("default/custom/thing");
        assertThat(OrderedHandler.key(start("", 1))).isEqualTo("default/tasks/start");
    }

    @Test
    void aConcurrencyBelowOneIsInvalidArgument() {
        assertThat(Errors.kindOf(catchThrowable(() -> OrderedHandler.handle(Flux.empty(), e -> Mono.empty(), 0))))
                .isEqualTo(ErrorKind.INVALID_ARGUMENT);
    }
}
