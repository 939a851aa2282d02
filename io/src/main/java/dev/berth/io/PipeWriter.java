package dev.berth.io;

import dev.berth.core.Errors;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Writes a publisher into a non-blocking pipe on the event loop, one buffer in flight: the next is requested only
 * when the previous one is entirely in the pipe, so a process that does not read stops the publisher. The pipe is
 * closed exactly once. Fields below the constructor's are touched on the loop thread only.
 */
final class PipeWriter implements IoLoop.InputPipe {
    private final DefaultIoLoop loop;
    private final FileDescriptor fd;
    /** Set by the first write or close: there is one writer, and close after it is the write's job. */
    private final AtomicBoolean claimed = new AtomicBoolean();

    private @Nullable MonoSink<Void> result;
    private @Nullable Subscription upstream;
    private @Nullable IoRegistration registration;
    private @Nullable ByteBuffer pending;
    private boolean upstreamDone;
    private boolean closed;

    PipeWriter(DefaultIoLoop loop, int fd) {
        this.loop = loop;
        this.fd = new FileDescriptor(fd);
    }

    @Override
    public Mono<Void> write(Publisher<ByteBuffer> data) {
        return Mono.create(sink -> {
            if (!claimed.compareAndSet(false, true)) {
                sink.error(Errors.failedPrecondition("stdin is already closed or being written"));
                return;
            }
            sink.onCancel(() -> loop.execute(this::cancel));
            loop.execute(() -> begin(sink, data));
        });
    }

    @Override
    public Mono<Void> close() {
        return Mono.fromRunnable(() -> {
            if (claimed.compareAndSet(false, true)) {
                loop.execute(this::closeFd);
            }
        });
    }

    private void begin(MonoSink<Void> sink, Publisher<ByteBuffer> data) {
        if (closed) {
            sink.error(Errors.failedPrecondition("stdin is closed"));
            return;
        }
        result = sink;
        loop.register(new FdHandle(fd, this::attached, this::flush, this::closeFd), EpollIoOps.EPOLLOUT.with(EpollIoOps.EPOLLET), this::finish);
        data.subscribe(new Subscriber<ByteBuffer>() {
            @Override
            public void onSubscribe(Subscription s) {
                loop.execute(() -> {
                    if (closed) {
                        s.cancel();
                        return;
                    }
                    upstream = s;
                    s.request(1);
                });
            }

            @Override
            public void onNext(ByteBuffer buffer) {
                ByteBuffer copy = buffer.duplicate();
                loop.execute(() -> {
                    pending = copy;
                    flush();
                });
            }

            @Override
            public void onError(Throwable error) {
                loop.execute(() -> finish(error));
            }

            @Override
            public void onComplete() {
                loop.execute(() -> {
                    upstreamDone = true;
                    if (pending == null) {
                        finish(null);
                    }
                });
            }
        });
    }

    private void flush() {
        ByteBuffer buffer = pending;
        if (closed || buffer == null || registration == null) {
            return;
        }
        ByteBuffer scratch = loop.scratch();
        while (buffer.hasRemaining()) {
            int n;
            try {
                if (buffer.isDirect()) {
                    n = fd.write(buffer, buffer.position(), buffer.limit());
                } else {
                    int len = Math.min(buffer.remaining(), scratch.capacity());
                    scratch.clear();
                    scratch.put(buffer.duplicate().limit(buffer.position() + len)).flip();
                    n = fd.write(scratch, 0, len);
                    scratch.clear();
                }
            } catch (IOException e) {
                // EPIPE: the process closed its end (or exited) before reading everything.
                finish(Errors.of(dev.berth.core.ErrorKind.FAILED_PRECONDITION, e,
                        "the process closed its stdin before reading all input"));
                return;
            }
            if (n == 0) {
                return; // EAGAIN: the next EPOLLOUT edge resumes
            }
            buffer.position(buffer.position() + n);
        }
        pending = null;
        if (upstreamDone) {
            finish(null);
        } else if (upstream != null) {
            upstream.request(1);
        }
    }

    private void attached(IoRegistration registration) {
        if (closed) {
            registration.cancel();
            return;
        }
        this.registration = registration;
        flush();
    }

    private void finish(@Nullable Throwable error) {
        if (closed) {
            return;
        }
        closeFd();
        MonoSink<Void> sink = result;
        if (error != null && upstream != null) {
            upstream.cancel();
        }
        if (sink != null) {
            if (error == null) {
                sink.success();
            } else {
                sink.error(error);
            }
        }
    }

    private void cancel() {
        if (upstream != null) {
            upstream.cancel();
        }
        closeFd();
    }

    private void closeFd() {
        if (closed) {
            return;
        }
        closed = true;
        pending = null;
        if (registration != null) {
            registration.cancel();
            registration = null;
        }
        loop.closeFd(fd.intValue());
    }
}
