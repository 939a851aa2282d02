package dev.berth.core;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A task: an init process (this {@link Process}) plus the execs added to it, driven through the embedded runtime,
 * a shim or a containerd daemon. Commands are cold: nothing happens until subscription, and each subscription is a
 * new attempt. {@link #exit()} is hot, since creation. Failures are {@link BerthException}s; the listed
 * {@link ErrorKind}s are part of the contract.
 */
public interface Task extends Process {
    /** The namespace this task lives in. */
    String namespace();

    /** The spec the task was created from. */
    TaskSpec spec();

    /**
     * Sends {@code signal} to the init process ({@link KillScope#INIT}) or to every process of the task
     * ({@link KillScope#ALL}).
     *
     * @return a cold Mono completing when the signal was delivered. Fails with FAILED_PRECONDITION if the task has
     *     not started or has exited.
     */
    Mono<Void> kill(Signal signal, KillScope scope);

    /**
     * Suspends every process of the task (SIGSTOP for host processes, the freezer for containers).
     *
     * @return a cold Mono completing when the task is PAUSED. Fails with FAILED_PRECONDITION unless RUNNING.
     */
    Mono<Void> pause();

    /**
     * Resumes a paused task.
     *
     * @return a cold Mono completing when the task is RUNNING again. Fails with FAILED_PRECONDITION unless PAUSED.
     */
    Mono<Void> resume();

    /**
     * Adds a process to the running task. The new process is CREATED: start it with {@link Process#start()}; its
     * {@link Process#exit()} is separate from the task's and hot from now on.
     *
     * @param execId the exec id, unique within the task ({@link Identifiers} rules)
     * @return a cold Mono emitting the new process. Fails with INVALID_ARGUMENT for a bad id or spec,
     *     ALREADY_EXISTS if the exec id is taken, FAILED_PRECONDITION unless the task is RUNNING.
     */
    Mono<Process> exec(String execId, ProcessSpec spec);

    /**
     * The processes currently in the task.
     *
     * @return a cold Flux of one {@link ProcessInfo} per live process, the init first. Fails with
     *     FAILED_PRECONDITION if the task is not running.
     */
    Flux<ProcessInfo> pids();

    /**
     * Deletes the task: refuses a live one. Same as {@code delete(false)}.
     *
     * @return see {@link #delete(boolean)}
     */
    @Override
    Mono<ExitStatus> delete();

    /**
     * Deletes the task and frees everything it holds (pipes, exec processes, runtime state).
     *
     * @param force when true, a live task is killed first (SIGKILL to every process, then its exit is awaited)
     * @return a cold Mono emitting the init's exit status, or completing empty if the task never started or was
     *     already deleted. Without force, fails with FAILED_PRECONDITION while the task is RUNNING or PAUSED.
     */
    Mono<ExitStatus> delete(boolean force);

    /**
     * Changes the resource limits (cgroup) of the running task's processes.
     *
     * @param resources the limits to apply; what it leaves unset is unchanged
     * @return a cold Mono completing once applied. Fails with INVALID_ARGUMENT for resources that set nothing,
     *     FAILED_PRECONDITION unless the task is RUNNING or PAUSED, NOT_IMPLEMENTED for a runtime without cgroups
     *     of its own (the embedded one).
     */
    default Mono<Void> update(dev.berth.core.oci.LinuxResources resources) {
        return Mono.error(Errors.notImplemented("task %s: this runtime cannot update resources", id()));
    }

    /**
     * Samples the task's cgroup statistics.
     *
     * @return a cold Mono of one sample. Fails with FAILED_PRECONDITION unless the task is RUNNING or PAUSED,
     *     NOT_IMPLEMENTED for a runtime without cgroups of its own (the embedded one).
     */
    default Mono<TaskMetrics> metrics() {
        return Mono.error(Errors.notImplemented("task %s: this runtime has no metrics", id()));
    }
}
