package dev.berth.shims;

import dev.berth.core.AsyncCloseable;
import dev.berth.core.TaskSpec;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Creates the shims of one runtime, one per task, and owns what they share. */
public interface ShimManager extends AsyncCloseable {
    /** The runtime name tasks select this manager with, e.g. {@code io.berth.embedded}. */
    String runtime();

    /**
     * Creates the task's shim and its init process, not started.
     *
     * @param namespace the task's namespace, already validated
     * @param spec the task, already validated
     * @return a cold Mono emitting the shim. Fails with NOT_FOUND or PERMISSION_DENIED when the program cannot be
     *     found or executed, INVALID_ARGUMENT for a spec this runtime cannot run. A failed or cancelled create
     *     leaves nothing behind.
     */
    Mono<Shim> create(String namespace, TaskSpec spec);

    /**
     * Finds the tasks a previous owner of this runtime's state left behind (detached, or owned by a process that
     * died) and takes them over: live shims are reconnected, and a task whose shim is gone is cleaned up and emitted
     * with a {@link Shim#lost()} that completes once that is done. Cold; call it once, before any create.
     *
     * @return a cold Flux of the restored tasks; empty for a runtime whose tasks cannot outlive their owner
     */
    default Flux<RestoredShim> restore() {
        return Flux.empty();
    }

    /**
     * Releases what the manager shares (event loops, sockets). Tasks must have been deleted before.
     *
     * @return a cold Mono completing when released
     */
    @Override
    Mono<Void> close();
}
