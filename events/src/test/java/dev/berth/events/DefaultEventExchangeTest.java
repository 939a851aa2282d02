package dev.berth.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.Any;
import dev.berth.core.Envelope;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.Namespaces;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.SubscribeOptions;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.events.proto.containerd.events.TaskStart;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

class DefaultEventExchangeTest {
    static final Duration TIMEOUT = Duration.ofSeconds(5);
    static final Instant NOW = Instant.parse("2024-05-01T12:00:00Z");
    static final String START = "/tasks/start";

    final RuntimeSchedulers schedulers = RuntimeSchedulers.create("xtest");
    final DefaultEventExchange exchange =
            new DefaultEventExchange(schedulers, Clock.fixed(NOW, ZoneOffset.UTC));

    @AfterEach
    void tearDown() {
        exchange.close().block(TIMEOUT);
        schedulers.dispose();
    }

    static TaskStart start(String id, int pid) {
        return TaskStart.newBuilder().setContainerId(id).setPid(pid).build();
    }

    static int pid(Envelope e) {
        return EventTypes.unpack(e.event(), TaskStart.class).getPid();
    }

    static String id(Envelope e) {
        return EventTypes.unpack(e.event(), TaskStart.class).getContainerId();
    }

    static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().collect(Collectors.toList());
    }

    void emitPids(int from, int to) {
        for (int i = from; i < to; i++) {
            exchange.emit("default", START, start("web", i));
        }
    }

    static EventFilter filter(java.util.function.BiPredicate<Envelope, EventPayload> test) {
        return new EventFilter() {
            @Override
            public boolean test(Envelope envelope, EventPayload payload) {
                return test.test(envelope, payload);
            }

            @Override
            public boolean matchesEverything() {
                return false;
            }
        };
    }

    @Test
    void publishStampsTheClockAndTakesTheNamespaceFromTheContext() {
        StepVerifier.create(exchange.subscribe())
                .then(() -> exchange.publish(START, start("web", 1))
                        .contextWrite(Namespaces.with("builds"))
                        .block(TIMEOUT))
                .assertNext(e -> {
                    assertThat(e.namespace()).isEqualTo("builds");
                    assertThat(e.topic()).isEqualTo(START);
                    assertThat(e.timestamp()).isEqualTo(NOW);
                    assertThat(e.event()).isEqualTo(EventTypes.pack(start("web", 1)));
                })
                .thenCancel()
                .verify(TIMEOUT);
    }

    @Test
    void publishWithoutANamespaceInTheContextUsesTheDefaultNamespace() {
        StepVerifier.create(exchange.subscribe())
                .then(() -> exchange.publish(START, start("web", 1)).block(TIMEOUT))
                .assertNext(e -> assertThat(e.namespace()).isEqualTo(Namespaces.DEFAULT))
                .thenCancel()
                .verify(TIMEOUT);
    }

    @Test
    void publishIsColdAndDoesNothingUntilSubscribed() {
        StepVerifier.create(exchange.subscribe(SubscribeOptions.DEFAULTS, EventFilter.ALL))
                .then(() -> exchange.publish(START, start("web", 1)))
                .then(() -> exchange.publish(START, start("web", 2)).block(TIMEOUT))
                .assertNext(e -> assertThat(pid(e)).isEqualTo(2))
                .thenCancel()
                .verify(TIMEOUT);
    }

    @Test
    void forwardKeepsTheTimestampAndNamespaceOfTheEnvelope() {
        Envelope forwarded = new Envelope(Instant.parse("2020-01-01T00:00:00Z"), "k8s.io", "/tasks/exit",
                EventTypes.pack(TaskExit.newBuilder().setContainerId("web").setExitStatus(3).build()));
        StepVerifier.create(exchange.subscribe(""))
                .then(() -> exchange.forward(forwarded).block(TIMEOUT))
                .expectNext(forwarded)
                .thenCancel()
                .verify(TIMEOUT);
    }

    @Test
    void invalidTopicNamespaceOrUnsetEventIsInvalidArgumentAndNothingIsDelivered() {
        StepVerifier.create(exchange.subscribe().map(DefaultEventExchangeTest::pid))
                .then(() -> {
                    assertThat(Errors.kindOf(catchThrowable(() -> exchange.emit("default", "tasks/start",
                            start("web", 1))))).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(Errors.kindOf(catchThrowable(() -> exchange.emit("default", "/", start("web", 2)))))
                            .isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(Errors.kindOf(catchThrowable(() -> exchange.emit("no/such ns", START,
                            start("web", 3))))).isEqualTo(ErrorKind.INVALID_ARGUMENT);
                    assertThat(Errors.kindOf(catchThrowable(() -> exchange.emit(
                            new Envelope(NOW, "default", START, Any.getDefaultInstance())))))
                            .isEqualTo(ErrorKind.INVALID_ARGUMENT);
                })
                .then(() -> StepVerifier.create(exchange.forward(
                                new Envelope(NOW, "default", "/tasks//exit", EventTypes.pack(start("web", 4)))))
                        .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                        .verify(TIMEOUT))
                .then(() -> StepVerifier.create(exchange.publish(START, start("web", 5))
                                .contextWrite(ctx -> ctx.put(Namespaces.KEY, "bad namespace")))
                        .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                        .verify(TIMEOUT))
                .then(() -> exchange.emit("default", START, start("web", 6)))
                .then(() -> exchange.close().block(TIMEOUT))
                .expectNext(6)
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void closeDeliversWhatWasBufferedThenCompletesAndRefusesFurtherEmitsWithUnavailable() {
        StepVerifier.create(exchange.subscribe().map(DefaultEventExchangeTest::pid), 0)
                .then(() -> emitPids(0, 3))
                .then(() -> exchange.close().block(TIMEOUT))
                .then(() -> {
                    assertThat(Errors.kindOf(catchThrowable(() -> exchange.emit("default", START,
                            start("web", 9))))).isEqualTo(ErrorKind.UNAVAILABLE);
                    assertThat(exchange.subscriberCount()).isZero();
                })
                .thenRequest(10)
                .expectNext(0, 1, 2)
                .expectComplete()
                .verify(TIMEOUT);
        StepVerifier.create(exchange.publish(START, start("web", 10)))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE))
                .verify(TIMEOUT);
        StepVerifier.create(exchange.forward(new Envelope(NOW, "default", START, EventTypes.pack(start("a", 1)))))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE))
                .verify(TIMEOUT);
    }

    @Test
    void subscribingAfterCloseCompletesAtOnceAndClosingAgainCompletes() {
        exchange.close().block(TIMEOUT);
        StepVerifier.create(exchange.subscribe()).expectComplete().verify(TIMEOUT);
        StepVerifier.create(exchange.close()).expectComplete().verify(TIMEOUT);
    }

    @Test
    void noEventIsLostDuplicatedOrReorderedWithEightPublishersAndFourSubscribers() throws Exception {
        int publishers = 8;
        int perPublisher = 20_000;
        // Large enough that the single events thread never has to keep pace with 8 tight loops on 2 vCPUs: this
        // test is about loss, duplication and order, the overflow tests are below.
        SubscribeOptions options = SubscribeOptions.failWhenFull(publishers * perPublisher);
        List<CompletableFuture<List<Envelope>>> received = IntStream.range(0, 4)
                .mapToObj(i -> exchange.subscribe(options).collectList().toFuture())
                .collect(Collectors.toList());
        assertThat(exchange.subscriberCount()).isEqualTo(4);

        ExecutorService pool = Executors.newFixedThreadPool(publishers);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<CompletableFuture<Void>> runs = new ArrayList<>();
            for (int p = 0; p < publishers; p++) {
                String id = "p" + p;
                runs.add(CompletableFuture.runAsync(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                    for (int i = 0; i < perPublisher; i++) {
                        exchange.emit("default", START, start(id, i));
                    }
                }, pool));
            }
            go.countDown();
            CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        exchange.close().block(TIMEOUT);

        for (CompletableFuture<List<Envelope>> future : received) {
            List<Envelope> events = future.get(30, TimeUnit.SECONDS);
            assertThat(events).hasSize(publishers * perPublisher);
            Map<String, List<Integer>> byPublisher = new HashMap<>();
            for (Envelope e : events) {
                byPublisher.computeIfAbsent(id(e), k -> new ArrayList<>()).add(pid(e));
            }
            assertThat(byPublisher).hasSize(publishers);
            byPublisher.values().forEach(pids -> assertThat(pids).isEqualTo(range(0, perPublisher)));
        }
    }

    @Test
    void emitsThatReturnedBeforeCloseAreAllDeliveredWhenPublishersRaceTheClose() throws Exception {
        int publishers = 4;
        int limit = 50_000;
        CompletableFuture<Long> received =
                exchange.subscribe(SubscribeOptions.failWhenFull(publishers * limit)).count().toFuture();
        ExecutorService pool = Executors.newFixedThreadPool(publishers);
        try {
            CountDownLatch underway = new CountDownLatch(publishers);
            List<CompletableFuture<Integer>> accepted = new ArrayList<>();
            for (int p = 0; p < publishers; p++) {
                accepted.add(CompletableFuture.supplyAsync(() -> {
                    int n = 0;
                    try {
                        for (; n < limit; n++) {
                            exchange.emit("default", START, start("web", n));
                            if (n == 1_000) {
                                underway.countDown();
                            }
                        }
                    } catch (RuntimeException e) {
                        assertThat(Errors.kindOf(e)).isEqualTo(ErrorKind.UNAVAILABLE);
                    }
                    underway.countDown();
                    return n;
                }, pool));
            }
            assertThat(underway.await(30, TimeUnit.SECONDS)).isTrue();
            exchange.close().block(TIMEOUT);
            long total = 0;
            for (CompletableFuture<Integer> a : accepted) {
                total += a.get(30, TimeUnit.SECONDS);
            }
            assertThat(received.get(30, TimeUnit.SECONDS)).isEqualTo(total);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aSubscriberThatRequestsNothingFailsWithResourceExhaustedOnThe17thEventAndOthersAreUnaffected() {
        StepVerifier slow = StepVerifier.create(exchange.subscribe(SubscribeOptions.failWhenFull(16)), 0)
                .expectSubscription()
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.RESOURCE_EXHAUSTED))
                .verifyLater();
        StepVerifier fast = StepVerifier.create(
                        exchange.subscribe(SubscribeOptions.failWhenFull(64)).map(DefaultEventExchangeTest::pid))
                .expectNextSequence(range(0, 40))
                .expectComplete()
                .verifyLater();
        assertThat(exchange.subscriberCount()).isEqualTo(2);

        emitPids(0, 16);
        assertThat(exchange.subscriberCount()).isEqualTo(2);
        emitPids(16, 17);
        assertThat(exchange.subscriberCount()).isEqualTo(1);
        slow.verify(TIMEOUT);

        emitPids(17, 40);
        exchange.close().block(TIMEOUT);
        fast.verify(TIMEOUT);
    }

    @Test
    void dropOldestKeepsTheNewestSixteenAndCountsTheEightyFourDropped() {
        AtomicLong toldDropped = new AtomicLong();
        StepVerifier.create(exchange.subscribe(SubscribeOptions.dropOldest(16, toldDropped::set))
                        .map(DefaultEventExchangeTest::pid), 0)
                .then(() -> emitPids(0, 100))
                .then(() -> {
                    assertThat(toldDropped).hasValue(84);
                    assertThat(exchange.droppedEvents()).isEqualTo(84);
                    assertThat(exchange.subscriptions()[0].buffered()).isEqualTo(16);
                })
                .thenRequest(Long.MAX_VALUE)
                .expectNextSequence(range(84, 100))
                .then(() -> exchange.close().block(TIMEOUT))
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void aSlowSubscriberChangesNothingForAFastOneAndItsBufferStaysBounded() throws Exception {
        int total = 100_000;
        // The fast subscriber's buffer is sized so that the test does not depend on the events thread keeping pace
        // with a tight publishing loop; what matters is that the slow one does not change what it gets.
        CompletableFuture<List<Integer>> fast = exchange.subscribe(SubscribeOptions.failWhenFull(total))
                .map(DefaultEventExchangeTest::pid)
                .collectList()
                .toFuture();
        AtomicLong toldDropped = new AtomicLong();
        StepVerifier.create(exchange.subscribe(SubscribeOptions.dropOldest(1024, toldDropped::set))
                        .map(DefaultEventExchangeTest::pid), 0)
                .then(() -> {
                    emitPids(0, total);
                    ExchangeSubscription slow = exchange.subscriptions()[1];
                    assertThat(slow.buffered()).isEqualTo(1024);
                    assertThat(slow.dropped()).isEqualTo(total - 1024);
                    assertThat(toldDropped).hasValue(total - 1024);
                    assertThat(exchange.droppedEvents()).isEqualTo(total - 1024);
                })
                .then(() -> exchange.close().block(TIMEOUT))
                .thenRequest(Long.MAX_VALUE)
                .expectNextSequence(range(total - 1024, total))
                .expectComplete()
                .verify(TIMEOUT);
        assertThat(fast.get(30, TimeUnit.SECONDS)).isEqualTo(range(0, total));
    }

    @Test
    void deliveryHappensOnTheEventsSchedulerNotOnThePublisherThread() {
        String publisher = Thread.currentThread().getName();
        StepVerifier.create(exchange.subscribe()
                        .map(e -> Thread.currentThread().getName() + "|" + Schedulers.isInNonBlockingThread()))
                .then(() -> exchange.emit("default", START, start("web", 1)))
                .assertNext(where -> assertThat(where)
                        .startsWith("xtest-events")
                        .endsWith("|true")
                        .doesNotStartWith(publisher + "|"))
                .thenCancel()
                .verify(TIMEOUT);
    }

    @Test
    void cancellingRemovesTheSubscriber() {
        StepVerifier.create(exchange.subscribe(), 0)
                .then(() -> assertThat(exchange.subscriberCount()).isEqualTo(1))
                .then(() -> emitPids(0, 5))
                .thenCancel()
                .verify(TIMEOUT);
        assertThat(exchange.subscriberCount()).isZero();
        emitPids(5, 10);
    }

    @Test
    void eventsTheFilterRejectsTakeNoBufferSpace() {
        EventFilter exits = filter((e, p) -> e.topic().equals("/tasks/exit"));
        StepVerifier.create(exchange.subscribe(SubscribeOptions.failWhenFull(1), exits), 0)
                .then(() -> {
                    emitPids(0, 100);
                    exchange.emit("default", "/tasks/exit", TaskExit.newBuilder().setContainerId("web").build());
                    assertThat(exchange.subscriberCount()).isEqualTo(1);
                })
                .thenRequest(1)
                .assertNext(e -> assertThat(e.topic()).isEqualTo("/tasks/exit"))
                .thenCancel()
                .verify(TIMEOUT);
    }

    @Test
    void allFiltersOfOneEventShareOnePayload() {
        List<EventPayload> seen = new CopyOnWriteArrayList<>();
        EventFilter recording = filter((e, p) -> {
            seen.add(p);
            return true;
        });
        StepVerifier a = StepVerifier.create(exchange.subscribe(SubscribeOptions.DEFAULTS, recording))
                .expectNextCount(1).thenCancel().verifyLater();
        StepVerifier b = StepVerifier.create(exchange.subscribe(SubscribeOptions.DEFAULTS, recording))
                .expectNextCount(1).thenCancel().verifyLater();
        exchange.emit("default", START, start("web", 1));
        a.verify(TIMEOUT);
        b.verify(TIMEOUT);
        assertThat(seen).hasSize(2);
        assertThat(seen.get(0)).isSameAs(seen.get(1));
    }

    @Test
    void aFilterThatThrowsFailsOnlyItsOwnSubscription() {
        EventFilter broken = filter((e, p) -> {
            throw new IllegalStateException("broken filter");
        });
        StepVerifier bad = StepVerifier.create(exchange.subscribe(SubscribeOptions.DEFAULTS, broken))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INTERNAL))
                .verifyLater();
        StepVerifier good = StepVerifier.create(exchange.subscribe().map(DefaultEventExchangeTest::pid))
                .expectNext(1)
                .thenCancel()
                .verifyLater();
        exchange.emit("default", START, start("web", 1));
        bad.verify(TIMEOUT);
        good.verify(TIMEOUT);
    }

    @Test
    void aFilterThatDoesNotParseFailsTheSubscriptionAndRegistersNothing() {
        Flux<Envelope> events = exchange.subscribe("topic==");
        StepVerifier.create(events)
                .expectErrorMatches(e -> Errors.kindOf(e) == ErrorKind.INVALID_ARGUMENT)
                .verify(TIMEOUT);
        assertThat(exchange.subscriberCount()).isZero();
    }

    @Test
    void aDisposedEventsSchedulerFailsTheSubscriptionInsteadOfLeavingItHanging() {
        schedulers.dispose();
        StepVerifier.create(exchange.subscribe())
                .expectError(RejectedExecutionException.class)
                .verify(TIMEOUT);
        assertThat(exchange.subscriberCount()).isZero();
    }

    @Test
    void aSubscriberFarBehindIsServedInTurnsAndGetsEverythingInOrder() {
        int total = 10 * ExchangeSubscription.TURN + 7;
        StepVerifier other = StepVerifier.create(exchange.subscribe(SubscribeOptions.failWhenFull(total))
                        .map(DefaultEventExchangeTest::pid))
                .expectNextSequence(range(0, total))
                .thenCancel()
                .verifyLater();
        StepVerifier.create(exchange.subscribe(SubscribeOptions.failWhenFull(total))
                        .map(DefaultEventExchangeTest::pid), 0)
                .then(() -> emitPids(0, total))
                .thenRequest(3)
                .expectNext(0, 1, 2)
                .thenRequest(Long.MAX_VALUE)
                .expectNextSequence(range(3, total))
                .thenCancel()
                .verify(TIMEOUT);
        other.verify(TIMEOUT);
    }

    @Test
    void withNoSubscriberAnEventIsDropped() {
        emitPids(0, 10);
        StepVerifier.create(exchange.subscribe().map(DefaultEventExchangeTest::pid))
                .then(() -> emitPids(10, 11))
                .expectNext(10)
                .thenCancel()
                .verify(TIMEOUT);
        assertThat(exchange.droppedEvents()).isZero();
    }
}
