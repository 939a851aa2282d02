package dev.berth.tasks;

import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.shims.ShimProcess;
import reactor.core.publisher.Mono;

/** An exec under the task manager: starts only while its task runs, and leaves the task when deleted. */
final class ManagedExec extends ManagedProcess {
    private final ManagedTask task;

    ManagedExec(String id, ShimProcess shimProcess, ManagedTask task) {
        super(id, shimProcess, ProcessState.CREATED);
        this.task = task;
    }

    @Override
    void checkCanStart() {
        if (!task.isRunning()) {
            throw Errors.failedPrecondition("cannot start exec %s: task %s is not running", id, task.id());
        }
    }

    @Override
    void publishStart(int pid) {
        task.events.execStarted(task.id(), id, pid);
    }

    @Override
    void publishExit(ExitStatus status, int pid) {
        task.events.exited(task.id(), id, pid, status);
    }

    @Override
    public Mono<ExitStatus> delete() {
        return super.delete().doOnSuccess(status -> task.forget(this));
    }
}
