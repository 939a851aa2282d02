package dev.berth.io;

import dev.berth.core.Errors;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Reads a pipe on the event loop only while the subscriber has demand. Edge-triggered: after stopping for lack of
 * demand, a later request drains directly, since no new edge comes for data already in the pipe. Every field below
 * the constructor's is touched on the loop thread only.
 */
final class PipeReader implements OutputPipe {
    /** Reads per turn before yielding the loop to other descriptors. */
    private static final int READS_PER_TURN = 16;

    private final DefaultIoLoop loop;
    private final FileDescriptor fd;
    private final Mono<?> exited;
    private final Duration drainTimeout;
    /** Null in {@link Mode#UNTIL_EMPTY}, which has no drain timer. */
    private final @Nullable Scheduler timer;
    private final Mode mode;
    private final AtomicBoolean claimed = new AtomicBoolean();

    private @Nullable FluxSink<ByteBuffer> sink;
    private @Nullable IoRegistration registration;
    private @Nullable Disposable exitWatch;
    private @Nullable Disposable drainTimer;
    private boolean processExited;
    private boolean closed;
    private boolean drainScheduled;
    private long bytesRead;
    private long bytesAtTimerStart;
    /** FIFO mode: whether epoll reported the descriptor once, i.e. a writer has connected. */
    private boolean sawEvent;

    /** How the end of the stream is found. */
    enum Mode {
        /** At end of file, or failing after the drain timeout of silence past the exit. */
        PIPE,
        /**
         * As {@link #PIPE}, for a FIFO's read end that may be open before any writer: an end of file is believed
         * only after the first epoll event, since before a writer connects read() returns 0 and epoll stays silent.
         */
        FIFO,
        /**
         * At end of file, or at the first empty read after the exit: for a pipe whose write end outlives every
         * writer (the shim keeps it), once the exit says the writers are gone. No drain timeout.
         */
        UNTIL_EMPTY
    }

    PipeReader(DefaultIoLoop loop, int fd, Mono<?> exited, Duration drainTimeout, Scheduler timer) {
        this(loop, fd, exited, drainTimeout, timer, Mode.PIPE);
    }

    PipeReader(DefaultIoLoop loop, int fd, Mono<?> exited, Duration drainTimeout, @Nullable Scheduler timer,
            Mode mode) {
        this.mode = mode;
        this.loop = loop;
        this.fd = new FileDescriptor(fd);
        this.exited = exited;
        this.drainTimeout = drainTimeout;
        this.timer = timer;
    }

    @Override
    public Flux<ByteBuffer> flux() {
        return Flux.defer(() -> {
            if (!claimed.compareAndSet(false, true)) {
                return Flux.error(Errors.failedPrecondition(
                        "this output was already subscribed or closed: live output can be read once"));
            }
            return Flux.<ByteBuffer>create(s -> loop.execute(() -> open(s)));
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

    private void open(FluxSink<ByteBuffer> s) {
        this.sink = s;
        s.onRequest(n -> loop.execute(this::drain));
        s.onDispose(() -> loop.execute(this::closeFd));
        if (closed) {
            return;
        }
        exitWatch = exited.subscribe(v -> loop.execute(this::onExited), e -> loop.execute(this::onExited),
                () -> loop.execute(this::onExited));
        loop.register(new FdHandle(fd, this::attached, this::onEvent, this::closeFd), EpollIoOps.EPOLLIN.with(EpollIoOps.EPOLLET), this::fail);
    }

    private void attached(IoRegistration registration) {
        if (closed) {
            registration.cancel();
            return;
        }
        this.registration = registration;
        drain();
    }

    private void onEvent() {
        sawEvent = true;
        drain();
    }

    private void drain() {
        FluxSink<ByteBuffer> s = sink;
        if (closed || s == null || registration == null) {
            return;
        }
        ByteBuffer scratch = loop.scratch();
        for (int i = 0; i < READS_PER_TURN; i++) {
            if (s.requestedFromDownstream() <= 0) {
                return;
            }
            int n;
            try {
                n = fd.read(scratch, 0, scratch.capacity());
            } catch (IOException e) {
                fail(Errors.wrap(e, "read from pipe %d", fd.intValue()));
                return;
            }
            if (n > 0) {
                bytesRead += n;
                ByteBuffer chunk = ByteBuffer.allocate(n);
                scratch.clear().limit(n);
                chunk.put(scratch).flip();
                scratch.clear();
                s.next(chunk);
            } else if (n == 0 && mode == Mode.UNTIL_EMPTY && processExited) {
                // The writers are gone and the pipe is empty: nothing more can come.
                closeFd();
                s.complete();
                return;
            } else if (n == 0 || (mode == Mode.FIFO && !sawEvent)) {
                // No data yet; for a FIFO without a writer so far, the 0 of read() is not an end of file either.
                armDrainTimer();
                return;
            } else {
                closeFd();
                s.complete();
                return;
            }
        }
        // More may be there and no new edge will come for it: continue on a later turn.
        if (!drainScheduled) {
            drainScheduled = true;
            loop.execute(() -> {
                drainScheduled = false;
                drain();
            });
        }
    }

    private void onExited() {
        processExited = true;
        if (mode == Mode.UNTIL_EMPTY) {
            // The pipe may be empty already, with no edge to come: look now (if there is demand).
            drain();
        } else {
            armDrainTimer();
        }
    }

    /** After the exit, an empty pipe that stays silent for the drain timeout is held by somebody else. */
    private void armDrainTimer() {
        Scheduler t = timer;
        if (!processExited || closed || drainTimer != null || t == null) {
            return;
        }
        bytesAtTimerStart = bytesRead;
        drainTimer = t.schedule(() -> loop.execute(this::onDrainTimer), drainTimeout.toNanos(),
                TimeUnit.NANOSECONDS);
    }

    private void onDrainTimer() {
        drainTimer = null;
        FluxSink<ByteBuffer> s = sink;
        if (closed || s == null) {
            return;
        }
        boolean progressed = bytesRead != bytesAtTimerStart;
        boolean waiting = s.requestedFromDownstream() > 0;
        if (progressed || !waiting) {
            // Still flowing, or the subscriber is the slow one: not a hang.
            armDrainTimer();
            return;
        }
        fail(Errors.deadlineExceeded(
                "output still open %s after the process exited: a descendant process holds the pipe; "
                        + "the stream ends here", drainTimeout));
    }

    private void fail(Throwable error) {
        closeFd();
        FluxSink<ByteBuffer> s = sink;
        if (s != null) {
            s.error(error);
        }
    }

    private void closeFd() {
        if (closed) {
            return;
        }
        closed = true;
        if (registration != null) {
            registration.cancel();
            registration = null;
        }
        if (exitWatch != null) {
            exitWatch.dispose();
        }
        if (drainTimer != null) {
            drainTimer.dispose();
            drainTimer = null;
        }
        loop.closeFd(fd.intValue());
    }
}
