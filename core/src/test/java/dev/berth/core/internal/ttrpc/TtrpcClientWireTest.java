package dev.berth.core.internal.ttrpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Empty;
import com.google.protobuf.StringValue;
import com.google.protobuf.UInt32Value;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.internal.ttrpc.proto.Request;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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

/** The client against a raw java.nio server that plays the shim byte for byte (spec §1.9). */
@Timeout(30)
class TtrpcClientWireTest {
    static final Duration WAIT = Duration.ofSeconds(5);
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
    static final String TASK = "containerd.task.v2.Task";

    @TempDir
    Path dir;
    final RuntimeSchedulers schedulers = RuntimeSchedulers.create("ttrpc-client-wire");
    ServerSocketChannel listener;
    TtrpcClient client;
    RawSocket shim;

    @BeforeEach
    void start() throws Exception {
        Path socket = dir.resolve("shim.sock");
        listener = RawSocket.listen(socket);
        client = TtrpcClient.connect(socket, schedulers.timer()).block(WAIT);
        shim = RawSocket.accept(listener);
    }

    @AfterEach
    void stop() throws Exception {
        client.close().block(WAIT);
        shim.close();
        listener.close();
        schedulers.dispose();
    }

    Mono<UInt32Value> connect() {
        // ConnectRequest{id = "sample-task"} and ConnectResponse{shim_pid} have the wire shape of these wrappers.
        StringValue request = StringValue.of("sample-task");
        assertThat(request.toByteArray()).isEqualTo(FrameCodecTest.CONNECT_PAYLOAD);
        return client.call(TASK, "Connect", request, UInt32Value.parser(), Duration.ZERO, Map.of());
    }

    @Test
    void aConnectCallSendsTheObservedBytesAndDecodesTheObservedReply() {
        StepVerifier.create(connect())
                .then(() -> {
                    byte[] sent = read(FrameCodecTest.CONNECT_REQUEST_FRAME.length);
                    assertThat(FrameCodecTest.HEX.formatHex(sent))
                            .isEqualTo(FrameCodecTest.HEX.formatHex(FrameCodecTest.CONNECT_REQUEST_FRAME));
                    write(FrameCodecTest.CONNECT_RESPONSE_FRAME);
                })
                .expectNext(UInt32Value.of(6701))
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void theObservedErrorReplyIsNotFound() {
        StepVerifier.create(client.call(TASK, "Delete", StringValue.of("sample-task"), Empty.parser(),
                        CALL_TIMEOUT, Map.of()))
                .then(() -> {
                    Frame request = readFrame();
                    write(FrameCodecTest.concat(ByteBuffer.allocate(10).putInt(38).putInt(request.streamId())
                            .put((byte) 2).put((byte) 0).array(), FrameCodecTest.DELETE_ERROR_PAYLOAD));
                })
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
    }

    @Test
    void aCallCarriesItsTimeoutAndMetadata() throws Exception {
        StepVerifier.create(client.call(TASK, "Create", StringValue.of("x"), Empty.parser(), Duration.ofSeconds(5),
                        Map.of("containerd-namespace-ttrpc", "builds")))
                .then(() -> {
                    Frame frame = readFrame();
                    Request request = parse(frame);
                    assertThat(request.getTimeoutNano()).isEqualTo(5_000_000_000L);
                    assertThat(request.getMetadataList()).singleElement().satisfies(kv -> {
                        assertThat(kv.getKey()).isEqualTo("containerd-namespace-ttrpc");
                        assertThat(kv.getValue()).isEqualTo("builds");
                    });
                    write(Frames.frame(frame.streamId(), Frames.TYPE_RESPONSE,
                            Frames.ok(com.google.protobuf.ByteString.EMPTY)));
                })
                .expectNext(Empty.getDefaultInstance())
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void streamIdsAreOddAndIncreaseByTwoAndRepliesMatchById() {
        Flux<Integer> calls = Flux.range(0, 4).flatMap(i -> client.call(TASK, "Pids", StringValue.of("c" + i), UInt32Value.parser(),
                        CALL_TIMEOUT, Map.of()).map(UInt32Value::getValue));
        List<Integer> ids = new ArrayList<>();
        StepVerifier.create(calls)
                .then(() -> {
                    List<Frame> frames = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        frames.add(readFrame());
                    }
                    frames.forEach(f -> ids.add(f.streamId()));
                    // Answer last-first; each reply carries its own stream id as the value.
                    for (int i = 3; i >= 0; i--) {
                        int id = frames.get(i).streamId();
                        write(Frames.frame(id, Frames.TYPE_RESPONSE,
                                Frames.ok(UInt32Value.of(id).toByteString())));
                    }
                })
                .expectNext(7, 5, 3, 1)
                .expectComplete()
                .verify(WAIT);
        assertThat(ids).containsExactly(1, 3, 5, 7);
        StepVerifier.create(connect())
                .then(() -> {
                    Frame next = readFrame();
                    assertThat(next.streamId()).isEqualTo(9);
                    write(Frames.frame(9, Frames.TYPE_RESPONSE, Frames.ok(UInt32Value.of(1).toByteString())));
                })
                .expectNext(UInt32Value.of(1))
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void aReplyForAStreamNobodyWaitsOnIsDropped() {
        StepVerifier.create(connect())
                .then(() -> {
                    Frame request = readFrame();
                    write(Frames.frame(request.streamId() + 100, Frames.TYPE_RESPONSE,
                            Frames.ok(UInt32Value.of(1).toByteString())));
                    write(Frames.frame(request.streamId(), Frames.TYPE_RESPONSE,
                            Frames.ok(UInt32Value.of(2).toByteString())));
                })
                .expectNext(UInt32Value.of(2))
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void aGarbageReplyFrameFailsEveryPendingCallAndClosesTheConnection() {
        StepVerifier.create(Flux.merge(connect(), connect()))
                .then(() -> {
                    readFrame();
                    readFrame();
                    // type 7 does not exist in ttrpc 1.1
                    write(new byte[] {0, 0, 0, 3, 0, 0, 0, 1, 7, 0, 1, 2, 3});
                })
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE)
                        && Errors.is(e.getCause(), ErrorKind.INVALID_ARGUMENT))
                .verifyThenAssertThat(WAIT)
                .hasNotDroppedErrors();
        StepVerifier.create(client.onClose()).expectComplete().verify(WAIT);
        assertThat(client.pendingCalls()).isZero();
        StepVerifier.create(connect()).expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE)).verify(WAIT);
    }

    @Test
    void anOversizedReplyClosesTheConnectionWithoutWaitingForItsPayload() {
        StepVerifier.create(connect())
                .then(() -> {
                    Frame request = readFrame();
                    write(ByteBuffer.allocate(10).putInt(0x7fffffff).putInt(request.streamId())
                            .put((byte) 2).put((byte) 0).array());
                })
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE)
                        && Errors.is(e.getCause(), ErrorKind.RESOURCE_EXHAUSTED))
                .verify(WAIT);
        StepVerifier.create(client.onClose()).expectComplete().verify(WAIT);
    }

    @Test
    void aReplyThatIsNotAResponseFailsOnlyItsCall() {
        StepVerifier.create(connect())
                .then(() -> {
                    Frame request = readFrame();
                    write(new byte[] {0, 0, 0, 2, 0, 0, 0, (byte) request.streamId(), 2, 0, (byte) 0x0a, (byte) 0x7f});
                })
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INTERNAL))
                .verify(WAIT);
        StepVerifier.create(connect())
                .then(() -> write(Frames.frame(readFrame().streamId(), Frames.TYPE_RESPONSE,
                        Frames.ok(UInt32Value.of(3).toByteString()))))
                .expectNext(UInt32Value.of(3))
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void aShimThatDiesFailsPendingCallsWithUnavailableAndCompletesOnClose() {
        StepVerifier.create(connect())
                .then(() -> {
                    readFrame();
                    // Half a reply, then the shim is gone.
                    write(new byte[] {0, 0, 0, 5, 0, 0});
                    closeShim();
                })
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE))
                .verifyThenAssertThat(WAIT)
                .hasNotDroppedErrors();
        StepVerifier.create(client.onClose()).expectComplete().verify(WAIT);
        StepVerifier.create(connect()).expectErrorMatches(e -> Errors.is(e, ErrorKind.UNAVAILABLE)).verify(WAIT);
    }

    // Raw I/O on the test thread: StepVerifier runs then() tasks on the verifying thread.
    Frame readFrame() {
        try {
            return shim.readFrame();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    byte[] read(int n) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(n);
            while (buffer.hasRemaining()) {
                if (shim.channel.read(buffer) < 0) {
                    throw new AssertionError("end of stream");
                }
            }
            return buffer.array();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    void write(byte[] bytes) {
        try {
            shim.write(bytes);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    void closeShim() {
        try {
            shim.close();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    static Request parse(Frame frame) {
        try {
            assertThat(frame.type()).isEqualTo(Frames.TYPE_REQUEST);
            return Request.parseFrom(frame.payload());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }
}
