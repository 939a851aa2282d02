package dev.berth.core.internal.ttrpc;

import com.google.protobuf.ByteString;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * A blocking java.nio Unix socket for tests, driven from the test thread only (never inside a Reactor operator, where
 * BlockHound would rightly fail it). Reads are bounded by the test class's JUnit timeout, which interrupts them.
 */
final class RawSocket implements AutoCloseable {
    final SocketChannel channel;

    private RawSocket(SocketChannel channel) {
        this.channel = channel;
    }

    static RawSocket connect(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        return new RawSocket(channel);
    }

    static ServerSocketChannel listen(Path socket) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        return server;
    }

    static RawSocket accept(ServerSocketChannel server) throws IOException {
        return new RawSocket(server.accept());
    }

    void write(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    /** The next whole frame. */
    Frame readFrame() throws IOException {
        Frame frame = readFrameOrEof();
        if (frame == null) {
            throw new EOFException("end of stream before a frame");
        }
        return frame;
    }

    /** The next whole frame, or null at a clean end of stream. */
    @Nullable Frame readFrameOrEof() throws IOException {
        ByteBuffer header = ByteBuffer.allocate(Frames.HEADER_SIZE);
        if (!readFully(header, true)) {
            return null;
        }
        header.flip();
        int length = header.getInt();
        int streamId = header.getInt();
        int type = header.get() & 0xff;
        int flags = header.get() & 0xff;
        ByteBuffer payload = ByteBuffer.allocate(length);
        readFully(payload, false);
        payload.flip();
        return new Frame(streamId, type, flags, ByteString.copyFrom(payload));
    }

    /** Whether the peer closed: reads until end of stream, failing if a frame arrives instead. */
    boolean closedByPeer() throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        try {
            return channel.read(one) < 0;
        } catch (IOException reset) {
            return true;
        }
    }

    private boolean readFully(ByteBuffer buffer, boolean eofAllowedAtStart) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                if (eofAllowedAtStart && buffer.position() == 0) {
                    return false;
                }
                throw new EOFException("end of stream inside a frame");
            }
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
