package dev.berth.tasks;

import dev.berth.core.Task;
import dev.berth.core.TaskService;
import reactor.core.publisher.Flux;

/**
 * The local {@link TaskService}: it keeps a registry of tasks per namespace, enforces each process's state machine
 * (a command that does not fit the state fails with FAILED_PRECONDITION and changes nothing) and drives the
 * {@link dev.berth.shims.Shim}s of the configured runtimes.
 */
public interface TaskManager extends TaskService {
    /**
     * Takes over the tasks a previous owner of the runtimes' state left behind: live ones are reconnected and
     * registered in their namespaces; one that exited while nobody owned it reports its real exit status and its
     * {@code /tasks/exit} event; one whose shim is gone is cleaned up and reported with an unknown exit status,
     * followed by {@code /tasks/delete}. Events are published while the Flux runs, so subscribe to
     * {@link #events()} first to see them. Cold; call it once, before creating tasks.
     *
     * @return a cold Flux of the restored tasks, each already registered when emitted
     */
    Flux<Task> restore();

    /** A task manager over {@code config}'s runtimes; it owns them and closes them with itself. */
    static TaskManager create(TaskManagerConfig config) {
        return new DefaultTaskManager(config);
    }
}
