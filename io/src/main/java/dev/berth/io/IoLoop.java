package dev.berth.io;

import dev.berth.core.AsyncCloseable;
import dev.berth.core.os.Syscalls;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * One epoll event loop thread that serves every pipe and pidfd of a runtime: no thread per process or stream. The
 * thread is a Reactor {@code NonBlocking} thread, so blocking calls on it fail under BlockHound. Signals of the
 * publishers made here are emitted on that thread.
 */
public interface IoLoop extends AsyncCloseable {
    /** The default size of one read from a pipe. */
    int DEFAULT_READ_SIZE = 64 * 1024;

    /**
     * Starts an event loop thread named {@code name}.
     *
     * @throws dev.berth.core.BerthException UNAVAILABLE if native epoll cannot be loaded on this machine
     */
    static IoLoop create(String name, Syscalls syscalls) {
        return DefaultIoLoop.start(name, syscalls);
    }

    /**
     * Wraps the read end of a pipe or FIFO as a single-use output stream. The loop owns {@code fd} from now on: it
     * sets O_NONBLOCK and closes it when the stream ends, is cancelled, or {@link OutputPipe#close()} is called
     * before anybody subscribed.
     *
     * @param fd the read end
     * @param exited completes (or emits) when the writer process exited: from then on, if the pipe stays empty
     *     for {@code drainTimeout} while the subscriber is asking for data, the stream fails with
     *     DEADLINE_EXCEEDED (a descendant holds the pipe) instead of waiting for an end of file that never comes
     * @param drainTimeout how long an exited process's pipe may stay silent
     * @param timer the scheduler that times the drain
     */
    OutputPipe output(int fd, Mono<?> exited, Duration drainTimeout, Scheduler timer);

    /**
     * Like {@link #output}, for the read end of a FIFO opened {@code O_RDONLY|O_NONBLOCK} before any writer opened
     * it: until epoll first reports the descriptor (a writer connected), a 0 from read() is not taken as end of file
     * (spec shim-v2-ttrpc §7.2). If the writer never comes, the stream waits until the drain timeout after
     * {@code exited}, or until it is cancelled.
     */
    OutputPipe fifoOutput(int fd, Mono<?> exited, Duration drainTimeout, Scheduler timer);

    /**
     * Like {@link #output}, for a pipe whose write end stays open after every writer is gone (a containerd shim
     * keeps its copy of a container's stdout until the task is deleted), so no end of file comes at the exit. Before
     * {@code exited}, reads follow demand as in {@link #output}; once {@code exited} completes or emits (or fails),
     * the first read that finds the pipe empty ends the stream. Demand is still respected, so a slow subscriber gets
     * every byte written before the exit. An end of file, if one comes, ends it too. There is no drain timeout:
     * the caller guarantees that no writer outlives {@code exited} (a container's init, whose PID namespace dies
     * with it), and bytes written after that point may be cut off.
     *
     * @param fd the read end; the loop owns it from now on, as for {@link #output}
     * @param exited signals once nothing writes into the pipe any more
     */
    OutputPipe outputUntilEmpty(int fd, Mono<?> exited);

    /**
     * Wraps the write end of a pipe as a stdin sink. The loop owns {@code fd}: it sets O_NONBLOCK and closes it
     * exactly once.
     */
    InputPipe input(int fd);

    /**
     * Waits until {@code fd} (a pidfd, typically) is readable. The descriptor stays the caller's.
     *
     * @return a cold Mono completing on the loop thread when {@code fd} is readable. Cancelling stops watching.
     */
    Mono<Void> whenReadable(int fd);

    /** Runs {@code task} on the loop thread. */
    void execute(Runnable task);

    /**
     * Stops the loop thread; pipes still open are closed.
     *
     * @return a cold Mono completing when the thread has ended
     */
    @Override
    Mono<Void> close();

    /** Writes a whole {@link Publisher} of buffers into a pipe; see {@link InputPipe#write(Publisher)}. */
    interface InputPipe extends AsyncCloseable {
        /**
         * Writes every buffer of {@code data} in order, requesting the next only when the previous one is in the
         * pipe, then closes the pipe.
         *
         * @return a cold Mono completing when all is written and the pipe is closed. Fails FAILED_PRECONDITION if
         *     the pipe is closed or another write is in progress, FAILED_PRECONDITION when the reader has gone
         *     (EPIPE), or with {@code data}'s error. Any failure or cancel closes the pipe.
         */
        Mono<Void> write(Publisher<ByteBuffer> data);

        /**
         * Closes the pipe if it is still open and no write is in progress; a write in progress closes it when it
         * ends.
         *
         * @return a cold Mono completing once the close is done or arranged
         */
        @Override
        Mono<Void> close();
    }
}
