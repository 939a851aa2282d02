package dev.berth.tasks.remote;

import dev.berth.core.Errors;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The one HTTP/2 connection to a containerd daemon's gRPC socket (spec §1.1, §1.3): grpc-netty (unshaded, the netty
 * reactor-netty uses) over an epoll domain socket, 16 MiB message limits both ways as the daemon has, and no client
 * keepalive: the daemon allows one ping per 5 minutes and answers more with GOAWAY {@code too_many_pings}, which
 * kills every open Wait and Subscribe. A broken connection is re-made by grpc on the next call.
 */
final class DaemonChannel {
    static final int MAX_MESSAGE_SIZE = 16 << 20;

    private final Path socket;
    private final EventLoopGroup group;
    private final ManagedChannel channel;

    private DaemonChannel(Path socket, EventLoopGroup group, ManagedChannel channel) {
        this.socket = socket;
        this.group = group;
        this.channel = channel;
    }

    /**
     * Builds the channel; nothing connects until the first call.
     *
     * @param executor where call callbacks run (not the netty thread, so that downstream work never stalls I/O)
     */
    static DaemonChannel open(Path socket, Executor executor) {
        if (!Epoll.isAvailable()) {
            throw Errors.unavailable("native epoll is not available: %s", Epoll.unavailabilityCause());
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, runnable -> {
            Thread t = new Thread(runnable, "berth-containerd-io");
            t.setDaemon(true);
            return t;
        }, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(group)
                .executor(executor)
                .usePlaintext()
                .maxInboundMessageSize(MAX_MESSAGE_SIZE)
                .maxInboundMetadataSize(1 << 20)
                .overrideAuthority("localhost")
                .build();
        return new DaemonChannel(socket, group, channel);
    }

    ManagedChannel channel() {
        return channel;
    }

    Path socket() {
        return socket;
    }

    /**
     * Shuts the channel down (pending calls fail UNAVAILABLE) and stops the event loop.
     *
     * @param blocking where the waits for termination run
     */
    Mono<Void> close(Scheduler blocking) {
        return Mono.<Void>fromRunnable(() -> {
            channel.shutdownNow();
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }).subscribeOn(blocking);
    }
}
