package dev.berth.io;

import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.unix.FileDescriptor;

/** Fires once when a descriptor becomes readable, then unregisters; never closes the descriptor. */
final class ReadableWatch implements EpollIoHandle, DefaultIoLoop.LoopHandle {
    private final FileDescriptor fd;
    private final Runnable onReadable;
    private IoRegistration registration;
    private boolean done;

    ReadableWatch(int fd, Runnable onReadable) {
        this.fd = new FileDescriptor(fd);
        this.onReadable = onReadable;
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public int fdValue() {
        return fd.intValue();
    }

    @Override
    public void attached(IoRegistration registration) {
        this.registration = registration;
        if (done) {
            registration.cancel();
        }
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        if (!done) {
            done = true;
            registration.cancel();
            onReadable.run();
        }
    }

    void cancel() {
        done = true;
        if (registration != null) {
            registration.cancel();
        }
    }

    @Override
    public void close() {
        // The descriptor belongs to the caller; the loop is shutting down.
        done = true;
    }
}
