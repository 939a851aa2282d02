package dev.berth.core;

import java.nio.ByteBuffer;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A process of a task: its init process ({@link Task}) or an exec. Commands are cold: nothing happens until
 * subscription, and each subscription is a new attempt. Three views are hot on purpose: {@link #exit()},
 * {@link #stdout()} and {@link #stderr()}. Failures are {@link BerthException}s and the listed {@link ErrorKind}s
 * are part of the contract. Signals are emitted on Berth's own threads; observe them elsewhere with
 * {@code publishOn} if you block.
 */
public interface Process {
    /** The process id in its task: the task id for the init process, the exec id for an exec. */
    String id();

    /**
     * Starts the process.
     *
     * @return a cold Mono emitting the host pid once the process runs. Fails with FAILED_PRECONDITION unless the
     *     process is CREATED, NOT_FOUND when the program does not exist, PERMISSION_DENIED when it cannot be
     *     executed, UNAVAILABLE when the runtime is gone. A failed start publishes no exit. Cancelling after the
     *     request was made only stops the wait.
     */
    Mono<Integer> start();

    /**
     * The exit of this process: hot, backed by a sink that exists since the process was created, so subscribing
     * before {@link #start()} never misses even the fastest exit.
     *
     * @return a Mono emitting the {@link ExitStatus} once; later subscribers get the cached value. It completes
     *     empty if the process is deleted without ever having started. Cancelling the subscription never affects
     *     the process.
     */
    Mono<ExitStatus> exit();

    /**
     * Sends {@code signal} to this process only.
     *
     * @return a cold Mono completing when the signal was delivered. Fails with FAILED_PRECONDITION if the process
     *     has not started or already exited, NOT_FOUND if it is gone.
     */
    Mono<Void> kill(Signal signal);

    /**
     * The live standard output, when {@link Stdio.Output#PIPE}: hot and single-use. Bytes are read from the pipe
     * only while there is demand: a subscriber that stops requesting leaves the data in the pipe, and the writing
     * process then blocks in {@code write(2)} until somebody reads (that is the backpressure). An output nobody
     * subscribes to fills the pipe (64 KiB to 1 MiB) and then blocks the process the same way: discard it with
     * {@link Stdio.Output#NULL} instead.
     *
     * <p>After the process exits the stream is drained to end of file and completes. If a descendant keeps the pipe
     * open and writes nothing for the runtime's drain timeout, the stream fails with DEADLINE_EXCEEDED instead of
     * hanging. Emitted buffers are fresh and owned by the subscriber.
     *
     * @return a Flux of the output chunks; a second subscription fails with FAILED_PRECONDITION, as does a stream
     *     that is not a pipe. Cancelling closes the read end: a process writing later gets SIGPIPE.
     */
    Flux<ByteBuffer> stdout();

    /** The live standard error; same contract as {@link #stdout()}. */
    Flux<ByteBuffer> stderr();

    /**
     * Writes {@code data} to standard input, when {@link Stdio.Input#PIPE}, then closes it. Writes wait for the
     * process to read (backpressure): {@code data} is requested only as the pipe accepts it. Completion of
     * {@code data} closes the process's stdin exactly once, and never before the process exists.
     *
     * @return a cold Mono completing once every byte is written and stdin is closed. Fails with
     *     FAILED_PRECONDITION if stdin is not a pipe or already closed or being written, with the error of
     *     {@code data} if it fails (stdin is closed then too). Cancelling stops writing and closes stdin.
     */
    Mono<Void> writeStdin(Publisher<ByteBuffer> data);

    /**
     * Closes standard input so the process reads end of file; a no-op when already closed. Sequenced after the
     * process exists: closing before {@link #start()} takes effect at start, never losing the end of file.
     *
     * @return a cold Mono completing when stdin is closed (or will be at start)
     */
    Mono<Void> closeStdin();

    /**
     * The current state of this process.
     *
     * @return a cold Mono of the status
     */
    Mono<TaskStatus> status();

    /**
     * Removes the process from its task and frees its resources (pipes, runtime state).
     *
     * @return a cold Mono emitting the exit status of a process that ran, or completing empty for one that never
     *     started or was already deleted. Fails with FAILED_PRECONDITION if the process is still running.
     */
    Mono<ExitStatus> delete();
}
