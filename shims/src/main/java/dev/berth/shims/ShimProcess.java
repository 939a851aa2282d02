package dev.berth.shims;

import dev.berth.core.ExitStatus;
import dev.berth.core.Signal;
import java.nio.ByteBuffer;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One process inside a shim. The reactive contracts are those of {@link dev.berth.core.Process}, of which this is
 * the runtime-side half.
 */
public interface ShimProcess {
    /** The task id for the init, the exec id for an exec. */
    String id();

    /** @return a cold Mono of the pid once the process runs */
    Mono<Integer> start();

    /** @return the hot exit, cached; completes empty if the process is deleted without having started */
    Mono<ExitStatus> exit();

    /** @return a cold Mono signalling this process only */
    Mono<Void> kill(Signal signal);

    /** @return the hot, single-use standard output */
    Flux<ByteBuffer> stdout();

    /** @return the hot, single-use standard error */
    Flux<ByteBuffer> stderr();

    /** @return a cold Mono writing {@code data} to stdin, then closing it, never before the process exists */
    Mono<Void> writeStdin(Publisher<ByteBuffer> data);

    /** @return a cold Mono closing stdin, never before the process exists */
    Mono<Void> closeStdin();

    /**
     * Frees the process: reaps it and closes its descriptors. It must have exited or never started.
     *
     * @return a cold Mono completing when done
     */
    Mono<Void> delete();
}
