package dev.berth.core.internal.ttrpc;

import com.google.protobuf.UnsafeByteOperations;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits the inbound byte stream into {@link Frame}s; one instance per connection.
 *
 * <p>The announced length is checked against {@link Frames#MAX_PAYLOAD} as soon as the 10-byte header is in, before
 * anything is allocated for the payload or the decoder waits for it: the cumulation only ever holds bytes that really
 * arrived, so a hostile {@code 0x7fffffff} header costs nothing. A malformed stream produces one {@link FrameError}
 * instead of an exception (so it never reaches Netty's exception path or reactor-netty's error logging); after it the
 * decoder discards everything, and the consumer closes the connection.
 *
 * <p>Frame types: a client accepts only responses (type 2); any other type is a protocol error, since ttrpc 1.1 has no
 * server-initiated streams. A server serves requests (type 1) and <em>skips</em> any other type, payload included,
 * keeping the connection open: that is what the containerd 1.6 shim does (spec §1.3), and it lets a newer ttrpc peer
 * that sends a stray data frame keep working.
 */
final class FrameDecoder extends ByteToMessageDecoder {
    private final boolean server;
    private boolean failed;

    private FrameDecoder(boolean server) {
        this.server = server;
    }

    static FrameDecoder forServer() {
        return new FrameDecoder(true);
    }

    static FrameDecoder forClient() {
        return new FrameDecoder(false);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < Frames.HEADER_SIZE) {
            return;
        }
        int start = in.readerIndex();
        long length = in.getUnsignedInt(start);
        int streamId = in.getInt(start + 4);
        int type = in.getUnsignedByte(start + 8);
        int flags = in.getUnsignedByte(start + 9);
        if (length > Frames.MAX_PAYLOAD) {
            fail(in, out, new FrameError(Frames.tooLarge(length), streamId, true));
            return;
        }
        if (!server && type != Frames.TYPE_RESPONSE) {
            fail(in, out, new FrameError(Errors.invalidArgument("unexpected ttrpc frame type %d on stream %s",
                    type, Integer.toUnsignedString(streamId)), streamId, false));
            return;
        }
        if (in.readableBytes() < Frames.HEADER_SIZE + length) {
            return;
        }
        in.skipBytes(Frames.HEADER_SIZE);
        if (server && type != Frames.TYPE_REQUEST) {
            in.skipBytes((int) length);
            return;
        }
        byte[] payload = new byte[(int) length];
        in.readBytes(payload);
        out.add(new Frame(streamId, type, flags, UnsafeByteOperations.unsafeWrap(payload)));
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        // decode() has already taken every complete frame: what is left is a frame cut short by end of stream.
        if (!failed && in.isReadable()) {
            fail(in, out, new FrameError(Errors.of(ErrorKind.UNAVAILABLE,
                    "ttrpc connection closed in the middle of a frame (%d bytes left over)", in.readableBytes()),
                    0, false));
        }
        in.skipBytes(in.readableBytes());
    }

    private void fail(ByteBuf in, List<Object> out, FrameError error) {
        failed = true;
        in.skipBytes(in.readableBytes());
        out.add(error);
    }
}
