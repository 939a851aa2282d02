package dev.berth.io;

import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.unix.FileDescriptor;
import java.util.function.Consumer;

/**
 * A descriptor's registration on the loop, forwarding to its owner: {@code attached} once registered,
 * {@code onEvent} on every readiness event, {@code onClose} when the loop shuts down with it still registered.
 * All three run on the loop thread.
 */
final class FdHandle implements EpollIoHandle {
    private final FileDescriptor fd;
    private final Consumer<IoRegistration> attached;
    private final Runnable onEvent;
    private final Runnable onClose;

    FdHandle(FileDescriptor fd, Consumer<IoRegistration> attached, Runnable onEvent, Runnable onClose) {
        this.fd = fd;
        this.attached = attached;
        this.onEvent = onEvent;
        this.onClose = onClose;
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    void attached(IoRegistration registration) {
        attached.accept(registration);
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        onEvent.run();
    }

    @Override
    public void close() {
        onClose.run();
    }
}
