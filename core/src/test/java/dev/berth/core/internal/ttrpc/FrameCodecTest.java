package dev.berth.core.internal.ttrpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.internal.ttrpc.proto.Response;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The frame layout against the observed bytes of spec §1.9, and the decoder's handling of broken streams. */
class FrameCodecTest {
    static final HexFormat HEX = HexFormat.of();

    static byte[] bytes(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object part : parts) {
            byte[] b = part instanceof String s && s.startsWith("\"")
                    ? s.substring(1, s.length() - 1).getBytes(StandardCharsets.UTF_8)
                    : HEX.parseHex(((String) part).replace(" ", ""));
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    /** ConnectRequest{id="sample-task"}, built by hand. */
    static final byte[] CONNECT_PAYLOAD = bytes("0a 0b", "\"sample-task\"");

    static final byte[] CONNECT_REQUEST_FRAME = bytes(
            "00 00 00 31  00 00 00 01  01  00",
            "0a 17", "\"containerd.task.v2.Task\"",
            "12 07", "\"Connect\"",
            "1a 0d", "0a 0b", "\"sample-task\"");

    static final byte[] CONNECT_RESPONSE_FRAME = bytes("00 00 00 05  00 00 00 01  02  00", "12 03  08 ad 34");

    static final byte[] DELETE_ERROR_PAYLOAD = bytes("0a 24  08 05  12 20", "\"container not created: not found\"");

    @Test
    void aConnectRequestEncodesToTheObservedBytes() {
        byte[] frame = Frames.frame(1, Frames.TYPE_REQUEST,
                Frames.request("containerd.task.v2.Task", "Connect", ByteString.copyFrom(CONNECT_PAYLOAD), 0, Map.of()));
        assertThat(HEX.formatHex(frame)).isEqualTo(HEX.formatHex(CONNECT_REQUEST_FRAME));
    }

    @Test
    void theObservedConnectResponseDecodes() throws Exception {
        Frame frame = decodeOne(FrameDecoder.forClient(), CONNECT_RESPONSE_FRAME);
        assertThat(frame.streamId()).isEqualTo(1);
        assertThat(frame.type()).isEqualTo(Frames.TYPE_RESPONSE);
        Response response = Response.parseFrom(frame.payload());
        assertThat(response.hasStatus()).isFalse();
        // ConnectResponse{shim_pid = 1}: field 1 varint
        assertThat(com.google.protobuf.UInt32Value.parseFrom(response.getPayload()).getValue()).isEqualTo(6701);
    }

    @Test
    void theObservedErrorResponseDecodesToItsStatus() throws Exception {
        byte[] frame = bytes("00 00 00 26  00 00 00 03  02  00");
        Frame decoded = decodeOne(FrameDecoder.forClient(), concat(frame, DELETE_ERROR_PAYLOAD));
        Response response = Response.parseFrom(decoded.payload());
        assertThat(response.getStatus().getCode()).isEqualTo(5);
        assertThat(response.getStatus().getMessage()).isEqualTo("container not created: not found");
        assertThat(response.getPayload().isEmpty()).isTrue();
        assertThat(Frames.failed(new dev.berth.core.internal.rpc.RpcStatus(5, "container not created: not found"))
                .toByteArray()).isEqualTo(DELETE_ERROR_PAYLOAD);
    }

    @Test
    void theObservedShutdownResponseIsAnEmptyFrame() throws Exception {
        Frame frame = decodeOne(FrameDecoder.forClient(), bytes("00000000 0000001b 0200"));
        assertThat(frame.streamId()).isEqualTo(27);
        assertThat(frame.payload().isEmpty()).isTrue();
        assertThat(Response.parseFrom(frame.payload())).isEqualTo(Response.getDefaultInstance());
        assertThat(Frames.frame(27, Frames.TYPE_RESPONSE, Frames.ok(ByteString.EMPTY)))
                .isEqualTo(bytes("00000000 0000001b 0200"));
    }

    @Test
    void framesSplitAcrossReadsAndSeveralInOneReadAreAllDecoded() {
        EmbeddedChannel channel = new EmbeddedChannel(FrameDecoder.forClient());
        byte[] two = concat(CONNECT_RESPONSE_FRAME, CONNECT_RESPONSE_FRAME);
        channel.writeInbound(Unpooled.wrappedBuffer(two, 0, 3));
        assertThat(channel.<Object>readInbound()).isNull();
        channel.writeInbound(Unpooled.wrappedBuffer(two, 3, two.length - 3));
        assertThat(channel.<Object>readInbound()).isInstanceOf(Frame.class);
        assertThat(channel.<Object>readInbound()).isInstanceOf(Frame.class);
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void anOversizedLengthFailsAtOnceWithoutWaitingForThePayload() {
        EmbeddedChannel channel = new EmbeddedChannel(FrameDecoder.forServer());
        channel.writeInbound(Unpooled.wrappedBuffer(bytes("7fffffff 00000005 0100")));
        FrameError error = channel.readInbound();
        assertThat(Errors.is(error.error(), ErrorKind.RESOURCE_EXHAUSTED)).isTrue();
        assertThat(error.oversized()).isTrue();
        assertThat(error.streamId()).isEqualTo(5);
        // Everything after it is discarded, not buffered.
        channel.writeInbound(Unpooled.wrappedBuffer(CONNECT_REQUEST_FRAME));
        assertThat(channel.<Object>readInbound()).isNull();
        channel.finish();
    }

    @Test
    void theLimitIsFourMebibytesOfPayload() {
        EmbeddedChannel channel = new EmbeddedChannel(FrameDecoder.forClient());
        channel.writeInbound(header(Frames.MAX_PAYLOAD, 1, 2));
        assertThat(channel.<Object>readInbound()).isNull();
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[Frames.MAX_PAYLOAD]));
        Frame frame = channel.readInbound();
        assertThat(frame.payload().size()).isEqualTo(Frames.MAX_PAYLOAD);

        channel.writeInbound(header(Frames.MAX_PAYLOAD + 1, 3, 2));
        assertThat(channel.<Object>readInbound()).isInstanceOf(FrameError.class);
        channel.finish();
    }

    @Test
    void aClientRejectsAFrameThatIsNotAResponse() {
        EmbeddedChannel channel = new EmbeddedChannel(FrameDecoder.forClient());
        channel.writeInbound(Unpooled.wrappedBuffer(bytes("00000000 00000001 0700")));
        FrameError error = channel.readInbound();
        assertThat(Errors.is(error.error(), ErrorKind.INVALID_ARGUMENT)).isTrue();
        channel.finish();
    }

    @Test
    void aServerSkipsFramesThatAreNotRequests() {
        EmbeddedChannel channel = new EmbeddedChannel(FrameDecoder.forServer());
        channel.writeInbound(Unpooled.wrappedBuffer(concat(bytes("00000002 00000001 0301 abcd"),
                bytes("00000000 00000001 0200"), CONNECT_REQUEST_FRAME)));
        Frame frame = channel.readInbound();
        assertThat(frame.type()).isEqualTo(Frames.TYPE_REQUEST);
        assertThat(channel.<Object>readInbound()).isNull();
        channel.finish();
    }

    @Test
    void aFrameCutShortByEndOfStreamIsReportedAsUnavailable() {
        EmbeddedChannel channel = new EmbeddedChannel(FrameDecoder.forServer());
        channel.writeInbound(Unpooled.wrappedBuffer(CONNECT_REQUEST_FRAME, 0, 20));
        assertThat(channel.<Object>readInbound()).isNull();
        channel.close();
        FrameError error = channel.readInbound();
        assertThat(Errors.is(error.error(), ErrorKind.UNAVAILABLE)).isTrue();
    }

    @Test
    void aCleanEndOfStreamReportsNothing() {
        EmbeddedChannel channel = new EmbeddedChannel(FrameDecoder.forServer());
        channel.writeInbound(Unpooled.wrappedBuffer(CONNECT_REQUEST_FRAME));
        assertThat(channel.<Object>readInbound()).isInstanceOf(Frame.class);
        channel.close();
        assertThat(channel.<Object>readInbound()).isNull();
    }

    private static Frame decodeOne(FrameDecoder decoder, byte[] bytes) {
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        channel.writeInbound(Unpooled.wrappedBuffer(bytes));
        Frame frame = channel.readInbound();
        assertThat(frame).isNotNull();
        assertThat(channel.<Object>readInbound()).isNull();
        assertThat(channel.finish()).isFalse();
        return frame;
    }

    private static ByteBuf header(long length, int streamId, int type) {
        return Unpooled.buffer(10).writeInt((int) length).writeInt(streamId).writeByte(type).writeByte(0);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
