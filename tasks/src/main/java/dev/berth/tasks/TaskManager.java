package dev.berth.tasks;

import dev.berth.core.TaskService;

/**
 * The local {@link TaskService}: it keeps a registry of tasks per namespace, enforces each process's state machine
 * (a command that does not fit the state fails with FAILED_PRECONDITION and changes nothing) and drives the
 * {@link dev.berth.shims.Shim}s of the configured runtimes.
 */
public interface TaskManager extends TaskService {
    /** A task manager over {@code config}'s runtimes; it owns them and closes them with itself. */
    static TaskManager create(TaskManagerConfig config) {
        return new DefaultTaskManager(config);
    }
}
