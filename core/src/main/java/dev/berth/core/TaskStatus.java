package dev.berth.core;

/** The states of a task or process, as containerd names them. */
public enum TaskStatus {
    /** Created, not started: the process does not run yet. */
    CREATED,
    /** Started and not yet exited. */
    RUNNING,
    /** Every process of the task is stopped with SIGSTOP. */
    PAUSED,
    /** Exited; the exit status is known (or unknowable). */
    STOPPED,
    /** Deleted: only a stale handle still refers to it. */
    DELETED,
    /** The backend cannot tell. */
    UNKNOWN
}
