package dev.berth.core.internal.ttrpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.StringValue;
import dev.berth.core.RuntimeSchedulers;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/**
 * Throws random and mutated frames at a running server over raw connections, then checks it still serves. Every
 * byte is written and read on the test thread with a non-blocking channel and a selector, so a server that stops
 * reading can not wedge the test; replies are drained and discarded.
 */
@Timeout(60)
class TtrpcServerFuzzTest {
    static final Duration WAIT = Duration.ofSeconds(5);
    static final int FRAMES = 100_000;
    static final int BATCH = 64;
    static final long SEED = 0x7e57_f022L;

    @TempDir
    Path dir;
    Path socket;
    final RuntimeSchedulers schedulers = RuntimeSchedulers.create("ttrpc-fuzz");
    final TestServices test = new TestServices();
    TtrpcServer server;
    TtrpcClient client;

    @BeforeEach
    void start() {
        socket = dir.resolve("f.sock");
        server = TtrpcServer.bind(socket, test.services(), schedulers).block(WAIT);
        client = TtrpcClient.connect(socket, schedulers.timer()).block(WAIT);
    }

    @AfterEach
    void stop() {
        client.close().block(WAIT);
        server.close().block(WAIT);
        schedulers.dispose();
    }

    @Test
    void randomAndMutatedFramesNeverStopTheServer() throws IOException {
        assertEchoes("before");
        int threadsBefore = Thread.activeCount();

        Fuzzer fuzzer = new Fuzzer(new Random(SEED));
        int written = 0;
        int connections = 0;
        try (Selector selector = Selector.open()) {
            while (written < FRAMES) {
                connections++;
                written += fuzzOneConnection(selector, fuzzer, FRAMES - written);
            }
        }

        assertThat(written).isGreaterThanOrEqualTo(FRAMES);
        assertEchoes("after");
        // Connections come and go, threads do not: everything ran on the fixed event loops.
        assertThat(Thread.activeCount()).isLessThanOrEqualTo(threadsBefore + 4);
        assertThat(connections).isPositive();
    }

    /**
     * Writes frames on one connection until a mutation broke the framing, the server dropped the connection, or
     * {@code budget} frames went out; then ends the input and reads until the server closes.
     */
    private int fuzzOneConnection(Selector selector, Fuzzer fuzzer, int budget) throws IOException {
        int written = 0;
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            channel.configureBlocking(false);
            SelectionKey key = channel.register(selector, SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
            boolean framingBroken = false;
            while (written < budget && !framingBroken) {
                Batch batch = fuzzer.batch(Math.min(BATCH, budget - written));
                framingBroken = batch.framingBroken();
                ByteBuffer out = ByteBuffer.wrap(batch.bytes());
                boolean open = true;
                while (out.hasRemaining() && open) {
                    if (selector.select(WAIT.toMillis()) == 0) {
                        throw new AssertionError("the server neither reads nor writes for " + WAIT);
                    }
                    selector.selectedKeys().clear();
                    open = drain(channel, sink) && write(channel, out);
                }
                written += (int) Arrays.stream(batch.ends()).filter(end -> end <= out.position()).count();
                if (!open) {
                    return written;
                }
            }
            // End of input: the server answers what it has, sees a clean or truncated end, and closes.
            channel.shutdownOutput();
            key.interestOps(SelectionKey.OP_READ);
            while (drain(channel, sink)) {
                if (selector.select(WAIT.toMillis()) == 0) {
                    throw new AssertionError("the server did not close after end of input");
                }
                selector.selectedKeys().clear();
            }
            return written;
        } finally {
            selector.selectNow(); // flush the cancelled key of the closed channel
        }
    }

    private static boolean drain(SocketChannel channel, ByteBuffer sink) {
        try {
            int n;
            do {
                sink.clear();
                n = channel.read(sink);
            } while (n > 0);
            return n == 0;
        } catch (IOException reset) {
            return false;
        }
    }

    private static boolean write(SocketChannel channel, ByteBuffer out) {
        try {
            channel.write(out);
            return true;
        } catch (IOException brokenPipe) {
            return false;
        }
    }

    private void assertEchoes(String value) {
        StepVerifier.create(client.call(TestServices.SERVICE, "Echo", StringValue.of(value), StringValue.parser(),
                        WAIT, Map.of()).map(StringValue::getValue))
                .expectNext(value)
                .expectComplete()
                .verify(WAIT);
    }

    /** Frames to write in one go; {@code ends[i]} is the offset just past frame i. */
    record Batch(byte[] bytes, int[] ends, boolean framingBroken) {
    }

    /**
     * Valid requests, most mutated in ways that keep the framing (payload bytes flipped, any type, any stream id,
     * noise under a plausible header), some in ways that break it (header bytes flipped, cut short, length nudged by
     * up to 16 bytes). A batch ends after a framing-breaking frame: what follows would only be swallowed as payload.
     */
    static final class Fuzzer {
        static final String[] METHODS = {"Echo", "Fail", "Throw", "Nothing", "Metadata", "Frobnicate"};
        static final String[] SERVICES = {TestServices.SERVICE, "berth.test.v1.Other", "containerd.task.v2.Task", ""};

        private final Random random;
        private int nextStreamId = 1;

        Fuzzer(Random random) {
            this.random = random;
        }

        Batch batch(int frames) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            int[] ends = new int[frames];
            int n = 0;
            boolean broken = false;
            while (n < frames && !broken) {
                int mutation = random.nextInt(100);
                broken = mutation >= 90;
                out.writeBytes(mutate(valid(), mutation));
                ends[n++] = out.size();
            }
            return new Batch(out.toByteArray(), Arrays.copyOf(ends, n), broken);
        }

        private byte[] mutate(byte[] frame, int mutation) {
            if (mutation < 25) {
                return frame;
            } else if (mutation < 50) {
                flip(frame, Frames.HEADER_SIZE, 1 + random.nextInt(4));
            } else if (mutation < 65) {
                frame[8] = (byte) random.nextInt(256);
            } else if (mutation < 80) {
                ByteBuffer.wrap(frame).putInt(4, random.nextInt());
            } else if (mutation < 90) {
                byte[] noise = new byte[random.nextInt(64)];
                random.nextBytes(noise);
                return FrameCodecTest.concat(ByteBuffer.allocate(Frames.HEADER_SIZE).putInt(noise.length)
                        .putInt(nextStreamId()).put((byte) 1).put((byte) 0).array(), noise);
            } else if (mutation < 94) {
                flip(frame, 0, 1 + random.nextInt(3));
            } else if (mutation < 97) {
                return Arrays.copyOf(frame, random.nextInt(frame.length));
            } else {
                int length = ByteBuffer.wrap(frame).getInt(0) + random.nextInt(33) - 16;
                ByteBuffer.wrap(frame).putInt(0, Math.max(0, length));
            }
            return frame;
        }
        private byte[] valid() {
            String service = SERVICES[random.nextInt(SERVICES.length)];
            String method = METHODS[random.nextInt(METHODS.length)];
            ByteString payload = random.nextInt(4) == 0
                    ? StringValue.of("NOT_FOUND").toByteString()
                    : StringValue.of("v" + random.nextInt(1000)).toByteString();
            Map<String, String> metadata = random.nextBoolean() ? Map.of() : Map.of("k", "v" + random.nextInt(9));
            long timeout = random.nextBoolean() ? 0 : Duration.ofSeconds(1 + random.nextInt(5)).toNanos();
            return Frames.frame(nextStreamId(), Frames.TYPE_REQUEST,
                    Frames.request(service, method, payload, timeout, metadata));
        }

        private int nextStreamId() {
            int id = nextStreamId;
            nextStreamId += 2;
            return id;
        }

        private void flip(byte[] frame, int from, int count) {
            if (frame.length <= from) {
                return;
            }
            for (int i = 0; i < count; i++) {
                int at = from + random.nextInt(frame.length - from);
                frame[at] ^= (byte) (1 + random.nextInt(255));
            }
        }
    }
}
