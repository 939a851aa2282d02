package dev.berth.core.internal.ttrpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Empty;
import com.google.protobuf.StringValue;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

@Timeout(30)
class TtrpcClientServerTest {
    static final Duration WAIT = Duration.ofSeconds(5);
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    Path socket;
    final RuntimeSchedulers schedulers = RuntimeSchedulers.create("ttrpc-test");
    final TestServices test = new TestServices();
    TtrpcServer server;
    TtrpcClient client;

    @BeforeEach
    void start() {
        socket = dir.resolve("t.sock");
        server = TtrpcServer.bind(socket, test.services(), schedulers).block(WAIT);
        client = TtrpcClient.connect(socket, schedulers.timer()).block(WAIT);
    }

    @AfterEach
    void stop() {
        client.close().block(WAIT);
        server.close().block(WAIT);
        schedulers.dispose();
    }

    Mono<String> call(String method, String value) {
        return call(client, method, value);
    }

    static Mono<String> call(TtrpcClient client, String method, String value) {
        return client.call(TestServices.SERVICE, method, StringValue.of(value), StringValue.parser(), CALL_TIMEOUT,
                Map.of()).map(StringValue::getValue);
    }

    @Test
    void aCallRoundTripsThroughTheServer() {
        StepVerifier.create(call("Echo", "hello"))
                .expectNext("hello")
                .expectComplete().verify(WAIT);
        assertThat(client.pendingCalls()).isZero();
    }

    @Test
    void eachSubscriptionSendsANewRequest() {
        Mono<String> echo = call("Echo", "again");
        StepVerifier.create(echo.repeat(2)).expectNext("again", "again", "again").expectComplete().verify(WAIT);
    }

    @Test
    void concurrentCallsOnOneConnectionCompleteInTheOrderTheServerAnswers() {
        int n = 32;
        List<String> values = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            values.add("r" + i);
        }
        List<String> reversed = new ArrayList<>(values);
        Collections.reverse(reversed);
        // Once every request has reached its handler, complete the handlers last-first.
        Mono<Void> releaseInReverse = test.arrivals.asFlux().take(n).then(Mono.fromRunnable(() ->
                reversed.forEach(v -> test.held.get(v).success(StringValue.of(v)))));
        Flux<String> replies = Flux.fromIterable(values).flatMap(v -> call("Hold", v), n);

        StepVerifier.create(Flux.merge(replies, releaseInReverse.then(Mono.<String>empty())))
                .expectNextSequence(reversed)
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void aCallWithoutAReplyFailsWithDeadlineExceededInVirtualTimeAndIsForgotten() {
        VirtualTimeScheduler time = VirtualTimeScheduler.create();
        TtrpcClient timed = TtrpcClient.connect(socket, time).block(WAIT);
        try {
            StepVerifier.create(timed.call(TestServices.SERVICE, "Hold", StringValue.of("slow"),
                            StringValue.parser(), Duration.ofSeconds(5), Map.of()))
                    .expectSubscription()
                    .then(() -> time.advanceTimeBy(Duration.ofMillis(4999)))
                    .then(() -> assertThat(timed.pendingCalls()).isEqualTo(1))
                    .then(() -> time.advanceTimeBy(Duration.ofMillis(1)))
                    .expectErrorMatches(e -> Errors.is(e, ErrorKind.DEADLINE_EXCEEDED))
                    .verify(WAIT);
            assertThat(timed.pendingCalls()).isZero();
            // The connection is still good after a timed-out call.
            StepVerifier.create(call(timed, "Echo", "after")).expectNext("after").expectComplete().verify(WAIT);
        } finally {
            timed.close().block(WAIT);
            time.dispose();
        }
    }

    @Test
    void cancellingACallOnlyStopsTheWait() {
        StepVerifier.create(call("Hold", "cancelled"))
                .expectSubscription()
                .then(() -> assertThat(client.pendingCalls()).isEqualTo(1))
                .thenCancel()
                .verify(WAIT);
        assertThat(client.pendingCalls()).isZero();
        // The request was sent anyway and reached the handler; a late reply is dropped.
        StepVerifier.create(test.arrivals.asFlux().next()).expectNext("cancelled").expectComplete().verify(WAIT);
        test.held.get("cancelled").success(StringValue.of("late"));
        StepVerifier.create(call("Echo", "still fine")).expectNext("still fine").expectComplete().verify(WAIT);
    }

    @Test
    void aServerClosedMidCallFailsThePendingCallWithUnavailableAndEndsTheConnection() {
        Mono<Void> closeOnArrival = test.arrivals.asFlux().next().then(server.close());
        StepVerifier.create(Flux.merge(call("Hold", "pending"), closeOnArrival.then(Mono.<String>empty())))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE))
                .verifyThenAssertThat(WAIT)
                .hasNotDroppedErrors();
        StepVerifier.create(client.onClose()).expectComplete().verify(WAIT);
        StepVerifier.create(call("Echo", "too late"))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE))
                .verify(WAIT);
        assertThat(client.pendingCalls()).isZero();
    }

    @Test
    void closingTheClientFailsPendingCallsAndCompletesOnClose() {
        StepVerifier.create(call("Hold", "open"))
                .expectSubscription()
                .then(() -> client.close().subscribe())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE))
                .verifyThenAssertThat(WAIT)
                .hasNotDroppedErrors();
        StepVerifier.create(client.onClose()).expectComplete().verify(WAIT);
        StepVerifier.create(client.close()).expectComplete().verify(WAIT);
    }

    @Test
    void anUnknownServiceOrMethodIsNotImplemented() {
        StepVerifier.create(client.call("berth.test.v9.Missing", "Echo", StringValue.of("x"), StringValue.parser(),
                        CALL_TIMEOUT, Map.of()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_IMPLEMENTED))
                .verify(WAIT);
        StepVerifier.create(call("Frobnicate", "x"))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_IMPLEMENTED))
                .verify(WAIT);
    }

    @Test
    void aHandlerFailureKeepsItsKindAndTheConnection() {
        for (ErrorKind kind : ErrorKind.values()) {
            StepVerifier.create(call("Fail", kind.name()))
                    .expectErrorMatches(e -> Errors.is(e, kind))
                    .verify(WAIT);
        }
        StepVerifier.create(call("Throw", "x"))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNKNOWN))
                .verify(WAIT);
        StepVerifier.create(call("Echo", "alive")).expectNext("alive").expectComplete().verify(WAIT);
    }

    @Test
    void anUndecodableRequestPayloadIsInternalAsFromTheShim() {
        StepVerifier.create(client.call(TestServices.SERVICE, "Echo",
                        com.google.protobuf.BytesValue.of(com.google.protobuf.ByteString.copyFrom(new byte[] {(byte) 0xff})),
                        StringValue.parser(), CALL_TIMEOUT, Map.of()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INTERNAL))
                .verify(WAIT);
    }

    @Test
    void anEmptyHandlerResultIsAnEmptyReply() {
        StepVerifier.create(client.call(TestServices.SERVICE, "Nothing", Empty.getDefaultInstance(), Empty.parser(),
                        CALL_TIMEOUT, Map.of()))
                .expectNext(Empty.getDefaultInstance())
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void aReplyAboveFourMebibytesFailsThatCallWithResourceExhausted() {
        StepVerifier.create(call("Big", "x"))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.RESOURCE_EXHAUSTED))
                .verify(WAIT);
        StepVerifier.create(call("Echo", "alive")).expectNext("alive").expectComplete().verify(WAIT);
    }

    @Test
    void aRequestAboveFourMebibytesIsRefusedBeforeSending() {
        StepVerifier.create(client.call(TestServices.SERVICE, "Echo",
                        StringValue.of("x".repeat(Frames.MAX_PAYLOAD)), StringValue.parser(), CALL_TIMEOUT, Map.of()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.RESOURCE_EXHAUSTED))
                .verify(WAIT);
        assertThat(client.pendingCalls()).isZero();
    }

    @Test
    void metadataReachesTheHandlerContext() {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("containerd-namespace-ttrpc", "builds");
        metadata.put("other", "value");
        StepVerifier.create(client.call(TestServices.SERVICE, "Metadata", Empty.getDefaultInstance(),
                        StringValue.parser(), CALL_TIMEOUT, metadata).map(StringValue::getValue))
                .expectNext("{containerd-namespace-ttrpc=builds, other=value}")
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void handlersRunOnEventLoopsWhereBlockHoundRefusesBlocking() {
        StepVerifier.create(call("Sleep", "x")).expectNext("blocked").expectComplete().verify(WAIT);
    }

    @Test
    void connectingToAMissingSocketIsUnavailable() {
        StepVerifier.create(TtrpcClient.connect(dir.resolve("none.sock"), schedulers.timer()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE))
                .verify(WAIT);
    }

    @Test
    void aSocketPathLongerThanUnixAllowsIsInvalid() {
        Path tooLong = dir.resolve("x".repeat(120));
        StepVerifier.create(TtrpcClient.connect(tooLong, schedulers.timer()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(WAIT);
        StepVerifier.create(TtrpcServer.bind(tooLong, Map.of(), schedulers))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(WAIT);
    }

    @Test
    void bindingWhereAServerListensIsAlreadyExists() {
        StepVerifier.create(TtrpcServer.bind(socket, Map.of(), schedulers))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.ALREADY_EXISTS))
                .verify(WAIT);
        StepVerifier.create(call("Echo", "undisturbed")).expectNext("undisturbed").expectComplete().verify(WAIT);
    }

    @Test
    void bindingOverAStaleSocketFileReplacesIt() throws Exception {
        Path stale = dir.resolve("stale.sock");
        RawSocket.listen(stale).close(); // the JDK leaves the socket file behind
        assertThat(stale).exists();
        TtrpcServer second = TtrpcServer.bind(stale, test.services(), schedulers).block(WAIT);
        try {
            TtrpcClient other = TtrpcClient.connect(stale, schedulers.timer()).block(WAIT);
            StepVerifier.create(call(other, "Echo", "fresh")).expectNext("fresh").expectComplete().verify(WAIT);
            other.close().block(WAIT);
        } finally {
            second.close().block(WAIT);
        }
    }

    @Test
    void bindingOverAFileThatIsNotASocketIsAlreadyExistsAndLeavesItAlone() throws Exception {
        Path file = Files.writeString(dir.resolve("file.sock"), "keep me");
        StepVerifier.create(TtrpcServer.bind(file, Map.of(), schedulers))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.ALREADY_EXISTS))
                .verify(WAIT);
        assertThat(file).hasContent("keep me");
    }

    @Test
    void closingTheServerRemovesTheSocketAndEndsItsConnections() {
        StepVerifier.create(server.close()).expectComplete().verify(WAIT);
        assertThat(socket).doesNotExist();
        StepVerifier.create(client.onClose()).expectComplete().verify(WAIT);
        StepVerifier.create(server.close()).expectComplete().verify(WAIT);
    }

    @Test
    void aNegativeTimeoutIsRejected() {
        assertThatThrownBy(() -> client.call(TestServices.SERVICE, "Echo", StringValue.of("x"), StringValue.parser(),
                Duration.ofSeconds(-1), Map.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
