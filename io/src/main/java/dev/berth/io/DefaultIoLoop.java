package dev.berth.io;

import dev.berth.core.Errors;
import dev.berth.core.os.Syscalls;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/** {@link IoLoop} on a one-thread Netty 4.2 epoll group, through its public {@code IoHandle} API. */
final class DefaultIoLoop implements IoLoop {
    private static final Logger log = LoggerFactory.getLogger(DefaultIoLoop.class);

    private final MultiThreadIoEventLoopGroup group;
    private final IoEventLoop loop;
    private final Syscalls syscalls;
    /** Scratch space for reads and writes; touched only on the loop thread. */
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(DEFAULT_READ_SIZE);

    private DefaultIoLoop(MultiThreadIoEventLoopGroup group, Syscalls syscalls) {
        this.group = group;
        this.loop = (IoEventLoop) group.next();
        this.syscalls = syscalls;
    }

    static DefaultIoLoop start(String name, Syscalls syscalls) {
        if (!Epoll.isAvailable()) {
            throw Errors.of(dev.berth.core.ErrorKind.UNAVAILABLE, Epoll.unavailabilityCause(),
                    "native epoll is not available");
        }
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                (java.util.concurrent.ThreadFactory) r -> new LoopThread(r, name), EpollIoHandler.newFactory());
        return new DefaultIoLoop(group, syscalls);
    }

    @Override
    public OutputPipe output(int fd, Mono<?> exited, Duration drainTimeout, Scheduler timer) {
        syscalls.setNonBlocking(fd);
        return new PipeReader(this, fd, exited, drainTimeout, timer);
    }

    @Override
    public OutputPipe fifoOutput(int fd, Mono<?> exited, Duration drainTimeout, Scheduler timer) {
        syscalls.setNonBlocking(fd);
        return new PipeReader(this, fd, exited, drainTimeout, timer, PipeReader.Mode.FIFO);
    }

    @Override
    public OutputPipe outputUntilEmpty(int fd, Mono<?> exited) {
        syscalls.setNonBlocking(fd);
        // No drain timer in this mode, so no timer scheduler.
        return new PipeReader(this, fd, exited, Duration.ZERO, null, PipeReader.Mode.UNTIL_EMPTY);
    }

    @Override
    public InputPipe input(int fd) {
        syscalls.setNonBlocking(fd);
        return new PipeWriter(this, fd);
    }

    @Override
    public Mono<Void> whenReadable(int fd) {
        return Mono.create(sink -> {
            ReadableWatch watch = new ReadableWatch(sink::success);
            register(new FdHandle(new io.netty.channel.unix.FileDescriptor(fd), watch::attached, watch::onReadable,
                    watch::cancel), EpollIoOps.EPOLLIN, sink::error);
            sink.onCancel(() -> execute(watch::cancel));
        });
    }

    @Override
    public void execute(Runnable task) {
        loop.execute(task);
    }

    boolean inLoop() {
        return loop.inEventLoop();
    }

    /** Registers {@code handle} for {@code ops}; its {@code attached} callback runs on the loop once registered. */
    void register(FdHandle handle, EpollIoOps ops, Consumer<Throwable> onFailure) {
        loop.register(handle).addListener(f -> {
            if (f.isSuccess()) {
                IoRegistration registration = (IoRegistration) f.getNow();
                registration.submit(ops);
                handle.attached(registration);
            } else {
                onFailure.accept(Errors.wrap(f.cause(), "register descriptor %d on the event loop",
                        handle.fd().intValue()));
            }
        });
    }

    ByteBuffer scratch() {
        return scratch;
    }

    Syscalls syscalls() {
        return syscalls;
    }

    void closeFd(int fd) {
        syscalls.close(fd);
    }

    @Override
    public Mono<Void> close() {
        return Mono.<Void>create(sink -> group.shutdownGracefully(0, 1, TimeUnit.SECONDS).addListener(f -> {
            if (!f.isSuccess()) {
                log.warn("event loop shutdown failed", f.cause());
            }
            sink.success();
        }));
    }
}
