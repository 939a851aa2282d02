package dev.berth.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import dev.berth.core.Envelope;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.SubscribeOptions;
import dev.berth.core.internal.ttrpc.TtrpcClient;
import dev.berth.events.proto.containerd.events.TaskStart;
import dev.berth.events.proto.containerd.services.events.ttrpc.v1.ForwardRequest;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

// Blocking socket reads on the test thread are bounded by this timeout, which interrupts (and so closes) them.
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class EventsSocketTest {
    static final Duration WAIT = Duration.ofSeconds(5);
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    static final String NS = "sample-ns";
    static final Map<String, String> SHIM_METADATA = Map.of("containerd-namespace-ttrpc", NS);

    final RuntimeSchedulers schedulers = RuntimeSchedulers.create("evsock-test");
    final EventExchange exchange = EventExchange.create(schedulers,
            Clock.fixed(Instant.parse("2020-01-01T00:00:00Z"), ZoneOffset.UTC));
    Path dir;
    EventsSocket events;

    @BeforeEach
    void bind() throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "berth");
        events = EventsSocket.bind(dir.resolve("ev.sock"), exchange, schedulers).block(WAIT);
    }

    @AfterEach
    void tearDown() throws IOException {
        try {
            events.close().block(WAIT);
            exchange.close().block(WAIT);
        } finally {
            schedulers.dispose();
            Files.deleteIfExists(dir.resolve("ev.sock"));
            Files.deleteIfExists(dir);
        }
    }

    static dev.berth.events.proto.containerd.services.events.ttrpc.v1.Envelope.Builder shimEnvelope(int pid,
            long seconds, int nanos) {
        return dev.berth.events.proto.containerd.services.events.ttrpc.v1.Envelope.newBuilder()
                .setTimestamp(Timestamp.newBuilder().setSeconds(seconds).setNanos(nanos))
                .setNamespace(NS)
                .setTopic("/tasks/start")
                .setEvent(EventTypes.pack(TaskStart.newBuilder().setContainerId("web").setPid(pid).build()));
    }

    static ForwardRequest request(dev.berth.events.proto.containerd.services.events.ttrpc.v1.Envelope.Builder e) {
        return ForwardRequest.newBuilder().setEnvelope(e).build();
    }

    TtrpcClient connect() {
        return TtrpcClient.connect(events.socket(), schedulers.timer()).block(WAIT);
    }

    static Mono<Empty> forward(TtrpcClient client, ForwardRequest request) {
        return client.call(EventsSocket.SERVICE, EventsSocket.METHOD, request, Empty.parser(), CALL_TIMEOUT,
                SHIM_METADATA);
    }

    static int pid(Envelope e) {
        return EventTypes.unpack(e.event(), TaskStart.class).getPid();
    }

    @Test
    void theWorkedTaskStartOfTheSpecDecodesIntoItsEnvelopeAndGetsAnEmptyReplyOnItsStream() throws IOException {
        byte[] frame = bytes(
                "000000c0 00000003 0100",
                "0a 2a", text("containerd.services.events.ttrpc.v1.Events"),
                "12 07", text("Forward"),
                "1a 5a",
                "0a 58",
                "0a 0c  08 98 ff 8a d8 06  10 8a 97 92 d7 03",
                "12 09", text("sample-ns"),
                "1a 0c", text("/tasks/start"),
                "22 2f",
                "0a 1b", text("containerd.events.TaskStart"),
                "12 10  0a 0b", text("sample-task"), "10 c3 34",
                "20 e3 8d 97 d0 12",
                "2a 27  0a 1a", text("containerd-namespace-ttrpc"), "12 09", text("sample-ns"));
        assertThat(frame).hasSize(10 + 192);
        Envelope expected = new Envelope(Instant.parse("2026-11-22T10:10:32.988056458Z"), "sample-ns",
                "/tasks/start", Any.newBuilder()
                        .setTypeUrl("containerd.events.TaskStart")
                        .setValue(TaskStart.newBuilder().setContainerId("sample-task").setPid(6723).build()
                                .toByteString())
                        .build());
        ByteBuffer reply = ByteBuffer.allocate(10);

        try (SocketChannel shim = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            shim.connect(UnixDomainSocketAddress.of(events.socket()));
            StepVerifier.create(exchange.subscribe())
                    .then(() -> write(shim, frame))
                    .expectNext(expected)
                    .thenCancel()
                    .verify(WAIT);
            readFully(shim, reply);
        }

        reply.flip();
        assertThat(reply.getInt()).as("payload length").isZero();
        assertThat(reply.getInt()).as("stream id").isEqualTo(3);
        assertThat(reply.get()).as("type").isEqualTo((byte) 2);
        assertThat(reply.get()).as("flags").isZero();
    }

    @Test
    void aForwardedEventReachesASubscriberWithItsOriginalTimestampAndNamespace() {
        TtrpcClient shim = connect();
        StepVerifier.create(exchange.subscribe("topic==\"/tasks/start\""))
                .then(() -> forward(shim, request(shimEnvelope(42, 1_700_000_000L, 123_456_789))).block(WAIT))
                .assertNext(e -> {
                    assertThat(e.timestamp()).isEqualTo(Instant.ofEpochSecond(1_700_000_000L, 123_456_789));
                    assertThat(e.namespace()).isEqualTo(NS);
                    assertThat(e.topic()).isEqualTo("/tasks/start");
                    assertThat(pid(e)).isEqualTo(42);
                })
                .thenCancel()
                .verify(WAIT);
        shim.close().block(WAIT);
    }

    @Test
    void anEnvelopeWithoutATimestampIsAnInvalidArgumentAndTheConnectionServesTheNextCall() {
        TtrpcClient shim = connect();
        StepVerifier.create(exchange.subscribe())
                .then(() -> StepVerifier.create(forward(shim, request(shimEnvelope(1, 10, 0).clearTimestamp())))
                        .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                        .verify(WAIT))
                .then(() -> forward(shim, request(shimEnvelope(2, 10, 0))).block(WAIT))
                .assertNext(e -> assertThat(pid(e)).isEqualTo(2))
                .thenCancel()
                .verify(WAIT);
        shim.close().block(WAIT);
    }

    @Test
    void anInvalidTopicAMissingNamespaceOrNoEnvelopeAreInvalidArgumentsAndTheConnectionServesTheNextCall() {
        TtrpcClient shim = connect();
        StepVerifier.create(exchange.subscribe())
                .then(() -> StepVerifier.create(forward(shim, request(shimEnvelope(1, 10, 0).setTopic("tasks"))))
                        .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                        .verify(WAIT))
                .then(() -> StepVerifier.create(forward(shim, request(shimEnvelope(1, 10, 0).clearNamespace())))
                        .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                        .verify(WAIT))
                .then(() -> StepVerifier.create(forward(shim, ForwardRequest.getDefaultInstance()))
                        .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                        .verify(WAIT))
                .then(() -> forward(shim, request(shimEnvelope(2, 10, 0))).block(WAIT))
                .assertNext(e -> assertThat(pid(e)).isEqualTo(2))
                .thenCancel()
                .verify(WAIT);
        shim.close().block(WAIT);
    }

    @Test
    void aShimThatReconnectsIsServedOnItsNewConnectionFromStreamOneAgain() {
        TtrpcClient first = connect();
        StepVerifier.create(exchange.subscribe())
                .then(() -> forward(first, request(shimEnvelope(1, 10, 0))).block(WAIT))
                .expectNextMatches(e -> pid(e) == 1)
                .then(() -> first.close().block(WAIT))
                .then(() -> {
                    TtrpcClient second = connect();
                    forward(second, request(shimEnvelope(2, 11, 0))).block(WAIT);
                    forward(second, request(shimEnvelope(3, 12, 0))).block(WAIT);
                    second.close().block(WAIT);
                })
                .expectNextMatches(e -> pid(e) == 2)
                .expectNextMatches(e -> pid(e) == 3)
                .thenCancel()
                .verify(WAIT);
    }

    @Test
    void aReSentEnvelopeIsAcknowledgedButDeliveredOnce() {
        ForwardRequest once = request(shimEnvelope(1, 10, 5));
        TtrpcClient first = connect();
        StepVerifier.create(exchange.subscribe())
                .then(() -> forward(first, once).block(WAIT))
                .then(() -> first.close().block(WAIT))
                .then(() -> {
                    // The shim re-sends on its new connection the event whose reply it did not see.
                    TtrpcClient second = connect();
                    forward(second, once).block(WAIT);
                    // Same content, another timestamp: another event.
                    forward(second, request(shimEnvelope(1, 10, 6))).block(WAIT);
                    second.close().block(WAIT);
                })
                .expectNextMatches(e -> e.timestamp().equals(Instant.ofEpochSecond(10, 5)))
                .expectNextMatches(e -> e.timestamp().equals(Instant.ofEpochSecond(10, 6)))
                .thenCancel()
                .verify(WAIT);
    }

    @Test
    void aForwardAfterTheExchangeClosedIsUnavailable() {
        TtrpcClient shim = connect();
        exchange.close().block(WAIT);
        StepVerifier.create(forward(shim, request(shimEnvelope(1, 10, 0))))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE))
                .verify(WAIT);
        shim.close().block(WAIT);
    }

    @Test
    void theSocketAnswersEveryForwardPromptlyWhileASubscriberRequestsNothing() {
        AtomicLong dropped = new AtomicLong();
        BaseSubscriber<Envelope> stalled = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                // Requests nothing: every event stays in, or overflows, its buffer.
            }
        };
        exchange.subscribe(SubscribeOptions.dropOldest(16, dropped::set)).subscribe(stalled);
        TtrpcClient shim = connect();
        try {
            // One call at a time, as the shim sends them.
            StepVerifier.create(Flux.range(0, 10_000)
                            .concatMap(i -> forward(shim, request(shimEnvelope(i, 1_000 + i, 0)))
                                    .thenReturn(i))
                            .count())
                    .expectNext(10_000L)
                    .expectComplete()
                    .verify(Duration.ofSeconds(20));
            assertThat(dropped.get()).isGreaterThanOrEqualTo(10_000 - 16 - 256);
            assertThat(exchange.droppedEvents()).isEqualTo(dropped.get());
        } finally {
            stalled.dispose();
            shim.close().block(WAIT);
        }
    }

    /** The listing's bytes: a String is hex (spaces ignored), a byte[] is one of its quoted strings. */
    static byte[] bytes(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object part : parts) {
            out.writeBytes(part instanceof byte[] text ? text : HexFormat.of().parseHex(((String) part).replace(" ", "")));
        }
        return out.toByteArray();
    }

    static byte[] text(String quoted) {
        return quoted.getBytes(StandardCharsets.UTF_8);
    }

    static void write(SocketChannel channel, byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        try {
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (IOException e) {
            throw new AssertionError("write to the events socket", e);
        }
    }

    static void readFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new EOFException("end of stream before the reply");
            }
        }
    }
}
