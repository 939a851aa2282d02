package dev.berth.shims;

import dev.berth.core.Errors;
import dev.berth.core.TaskSpec;
import dev.berth.core.TaskStatus;
import java.util.Objects;

/**
 * A task found again by {@link ShimManager#restore()}.
 *
 * @param namespace the task's namespace
 * @param spec the task as it was created, as far as the runtime's state records it
 * @param shim the reconnected shim; its init's {@link ShimProcess#exit()} is hot again (a task that exited while
 *     nobody owned it completes it with its real status)
 * @param status the init's state when found: CREATED, RUNNING, PAUSED or STOPPED
 * @param pid the init's pid, 0 if it never started
 */
public record RestoredShim(String namespace, TaskSpec spec, Shim shim, TaskStatus status, int pid) {
    public RestoredShim {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(shim, "shim");
        Objects.requireNonNull(status, "status");
        if (status == TaskStatus.DELETED || status == TaskStatus.UNKNOWN) {
            throw Errors.invalidArgument("a restored task is CREATED, RUNNING, PAUSED or STOPPED, not %s", status);
        }
    }
}
