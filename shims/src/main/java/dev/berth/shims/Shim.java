package dev.berth.shims;

import dev.berth.core.ProcessInfo;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One task inside a runtime: its init process and its execs. The caller ({@code TaskManager}) enforces the state
 * machine; a shim still refuses what would break it with FAILED_PRECONDITION.
 */
public interface Shim {
    /** The init process, created with the shim. */
    ShimProcess init();

    /**
     * Adds a process to the task, not started.
     *
     * @return a cold Mono of the process. Fails with NOT_FOUND or PERMISSION_DENIED for a program that cannot be
     *     run, ALREADY_EXISTS for a taken exec id, FAILED_PRECONDITION if the init is not running.
     */
    Mono<ShimProcess> exec(String execId, ProcessSpec spec);

    /** @return a cold Mono signalling every process of the task; FAILED_PRECONDITION before the init started */
    Mono<Void> killAll(Signal signal);

    /** @return a cold Mono completing when every process of the task is stopped */
    Mono<Void> pause();

    /** @return a cold Mono completing when every process of the task runs again */
    Mono<Void> resume();

    /** @return a cold Flux of the live processes of the task, the init first */
    Flux<ProcessInfo> pids();

    /**
     * Ends the task: kills whatever is left of it, waits for the execs' exits, reaps and frees everything. The init
     * must have exited or never started.
     *
     * @return a cold Mono completing when nothing of the task remains
     */
    Mono<Void> delete();

    /**
     * The loss of the shim: completes once the runtime saw the task's shim die without a {@link #delete()} (its
     * daemon killed or crashed), and cleaned up after it (nothing of the task is left: no process, bundle, socket
     * or runtime state). By then every process's {@link ShimProcess#exit()} has completed: with the status the
     * runtime saw if it saw one, else {@link dev.berth.core.ExitStatus#unknown unknown}; a later {@link #delete()}
     * completes at once. Hot and cached; never completes for a shim that is deleted or detached. Runtimes whose
     * shims cannot be lost (the embedded one) never complete it.
     */
    default Mono<Void> lost() {
        return Mono.never();
    }

    /**
     * Lets go of the task without ending it: this side's connection and descriptors are released, the task keeps
     * running, and a later {@link ShimManager#restore()} over the same state finds it again.
     *
     * @return a cold Mono completing when released. NOT_IMPLEMENTED for a runtime whose tasks cannot outlive it
     *     (the embedded one).
     */
    default Mono<Void> detach() {
        return Mono.error(dev.berth.core.Errors.notImplemented("this runtime's tasks cannot outlive their owner"));
    }

    /**
     * Changes the task's resource limits.
     *
     * @return a cold Mono completing once applied; NOT_IMPLEMENTED for a runtime without cgroups of its own
     */
    default Mono<Void> update(dev.berth.core.oci.LinuxResources resources) {
        return Mono.error(dev.berth.core.Errors.notImplemented("this runtime cannot update resources"));
    }

    /**
     * Samples the task's cgroup statistics.
     *
     * @return a cold Mono of the statistics message; NOT_IMPLEMENTED for a runtime without cgroups of its own
     */
    default Mono<dev.berth.core.TaskMetrics> metrics() {
        return Mono.error(dev.berth.core.Errors.notImplemented("this runtime has no metrics"));
    }
}
