package dev.berth.core.internal.ttrpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.StringValue;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.internal.ttrpc.proto.Response;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/** The server against hand-made frames from a raw java.nio client, as the shim was probed in spec §9.E. */
@Timeout(30)
class TtrpcServerWireTest {
    static final Duration WAIT = Duration.ofSeconds(5);

    @TempDir
    Path dir;
    Path socket;
    final RuntimeSchedulers schedulers = RuntimeSchedulers.create("ttrpc-wire");
    final TestServices test = new TestServices();
    TtrpcServer server;

    @BeforeEach
    void start() {
        socket = dir.resolve("t.sock");
        server = TtrpcServer.bind(socket, test.services(), schedulers).block(WAIT);
    }

    @AfterEach
    void stop() {
        server.close().block(WAIT);
        schedulers.dispose();
    }

    static byte[] request(int streamId, String method, String value) {
        return Frames.frame(streamId, Frames.TYPE_REQUEST, Frames.request(TestServices.SERVICE, method,
                StringValue.of(value).toByteString(), 0, Map.of()));
    }

    static Response response(Frame frame) throws Exception {
        assertThat(frame.type()).isEqualTo(Frames.TYPE_RESPONSE);
        assertThat(frame.flags()).isZero();
        return Response.parseFrom(frame.payload());
    }

    static String echoed(Frame frame) throws Exception {
        Response response = response(frame);
        assertThat(response.hasStatus()).isFalse();
        return StringValue.parseFrom(response.getPayload()).getValue();
    }

    /** The server answers a normal request on a fresh connection. */
    void assertStillServing() throws Exception {
        try (RawSocket raw = RawSocket.connect(socket)) {
            raw.write(request(1, "Echo", "still serving"));
            assertThat(echoed(raw.readFrame())).isEqualTo("still serving");
        }
    }

    @Test
    void aRequestIsAnsweredOnItsStreamId() throws Exception {
        try (RawSocket raw = RawSocket.connect(socket)) {
            raw.write(request(7, "Echo", "seven"));
            Frame reply = raw.readFrame();
            assertThat(reply.streamId()).isEqualTo(7);
            assertThat(echoed(reply)).isEqualTo("seven");
        }
    }

    @Test
    void anEvenStreamIdGetsCodeThreeOnThatStream() throws Exception {
        try (RawSocket raw = RawSocket.connect(socket)) {
            raw.write(request(2, "Echo", "even"));
            Frame reply = raw.readFrame();
            assertThat(reply.streamId()).isEqualTo(2);
            assertThat(response(reply).getStatus().getCode()).isEqualTo(3);
            assertThat(response(reply).getStatus().getMessage())
                    .isEqualTo("StreamID must be odd for client initiated streams");
            // The connection stays usable.
            raw.write(request(3, "Echo", "odd"));
            assertThat(echoed(raw.readFrame())).isEqualTo("odd");
        }
    }

    @Test
    void unknownServiceAndMethodGetCodeTwelveWorded() throws Exception {
        try (RawSocket raw = RawSocket.connect(socket)) {
            raw.write(Frames.frame(1, Frames.TYPE_REQUEST,
                    Frames.request("containerd.task.v3.Task", "Create", ByteString.EMPTY, 0, Map.of())));
            Response service = response(raw.readFrame());
            assertThat(service.getStatus().getCode()).isEqualTo(12);
            assertThat(service.getStatus().getMessage()).isEqualTo("service containerd.task.v3.Task");
            raw.write(request(3, "Frobnicate", "x"));
            Response method = response(raw.readFrame());
            assertThat(method.getStatus().getCode()).isEqualTo(12);
            assertThat(method.getStatus().getMessage()).isEqualTo("method Frobnicate");
        }
    }

    @Test
    void anEnvelopeThatIsNotARequestGetsCodeThree() throws Exception {
        try (RawSocket raw = RawSocket.connect(socket)) {
            raw.write(new byte[] {0, 0, 0, 2, 0, 0, 0, 5, 1, 0, (byte) 0x0a, (byte) 0x7f});
            Frame reply = raw.readFrame();
            assertThat(reply.streamId()).isEqualTo(5);
            assertThat(response(reply).getStatus().getCode()).isEqualTo(3);
        }
    }

    @Test
    void anUndecodablePayloadGetsCodeThirteen() throws Exception {
        try (RawSocket raw = RawSocket.connect(socket)) {
            raw.write(Frames.frame(1, Frames.TYPE_REQUEST, Frames.request(TestServices.SERVICE, "Echo",
                    ByteString.copyFrom(new byte[] {0x0a, 0x05, 'a'}), 0, Map.of())));
            assertThat(response(raw.readFrame()).getStatus().getCode()).isEqualTo(13);
        }
    }

    @Test
    void framesOfOtherTypesAreSkippedAndFlagsIgnored() throws Exception {
        try (RawSocket raw = RawSocket.connect(socket)) {
            byte[] data = request(1, "Echo", "data frame");
            data[8] = 3;
            byte[] flagged = request(3, "Echo", "flagged");
            flagged[9] = (byte) 0xff;
            raw.write(FrameCodecTest.concat(data, flagged));
            Frame reply = raw.readFrame();
            assertThat(reply.streamId()).isEqualTo(3);
            assertThat(echoed(reply)).isEqualTo("flagged");
        }
    }

    @Test
    void aRequestDeadlineEndsTheHandlerWithCodeFour() throws Exception {
        try (RawSocket raw = RawSocket.connect(socket)) {
            raw.write(Frames.frame(1, Frames.TYPE_REQUEST, Frames.request(TestServices.SERVICE, "Hold",
                    StringValue.of("bounded").toByteString(), Duration.ofMillis(50).toNanos(), Map.of())));
            assertThat(response(raw.readFrame()).getStatus().getCode()).isEqualTo(4);
        }
    }

    @Test
    void anOversizedLengthIsAnsweredWithCodeEightAndClosesOnlyThatConnection() throws Exception {
        try (RawSocket other = RawSocket.connect(socket); RawSocket raw = RawSocket.connect(socket)) {
            raw.write(ByteBuffer.allocate(10).putInt(0x7fffffff).putInt(9).put((byte) 1).put((byte) 0).array());
            Frame reply = raw.readFrame();
            assertThat(reply.streamId()).isEqualTo(9);
            assertThat(response(reply).getStatus().getCode()).isEqualTo(8);
            assertThat(raw.closedByPeer()).isTrue();

            other.write(request(1, "Echo", "unaffected"));
            assertThat(echoed(other.readFrame())).isEqualTo("unaffected");
        }
        assertStillServing();
    }

    @Test
    void aFrameCutShortByEndOfStreamDropsOnlyThatConnection() throws Exception {
        try (RawSocket raw = RawSocket.connect(socket)) {
            byte[] whole = request(1, "Echo", "truncated");
            raw.write(java.util.Arrays.copyOf(whole, whole.length - 3));
            raw.channel.shutdownOutput();
            assertThat(raw.readFrameOrEof()).isNull();
        }
        assertStillServing();
    }

    @Test
    void aHeaderCutShortIsDroppedToo() throws Exception {
        try (RawSocket raw = RawSocket.connect(socket)) {
            raw.write(new byte[] {0, 0, 0});
            raw.channel.shutdownOutput();
            assertThat(raw.readFrameOrEof()).isNull();
        }
        assertStillServing();
    }

    @Test
    void requestsOnOneConnectionAreServedConcurrentlyAndAnsweredOutOfOrder() throws Exception {
        try (RawSocket raw = RawSocket.connect(socket)) {
            raw.write(FrameCodecTest.concat(request(1, "Hold", "first"), request(3, "Echo", "second")));
            Frame reply = raw.readFrame();
            assertThat(reply.streamId()).isEqualTo(3);
            StepVerifier.create(test.arrivals.asFlux().next()).expectNext("first").expectComplete().verify(WAIT);
            test.held.get("first").success(StringValue.of("first"));
            Frame late = raw.readFrame();
            assertThat(late.streamId()).isEqualTo(1);
            assertThat(echoed(late)).isEqualTo("first");
        }
    }

    @Test
    void aClientThatLeavesWithCallsInFlightDoesNotDisturbTheServer() throws Exception {
        try (RawSocket raw = RawSocket.connect(socket)) {
            raw.write(request(1, "Hold", "abandoned"));
            StepVerifier.create(test.arrivals.asFlux().next()).expectNext("abandoned").expectComplete().verify(WAIT);
        }
        assertStillServing();
    }
}
