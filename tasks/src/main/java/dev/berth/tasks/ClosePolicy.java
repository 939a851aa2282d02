package dev.berth.tasks;

/** What closing a {@link TaskManager} does to the tasks it still owns. */
public enum ClosePolicy {
    /** End every task: SIGTERM, the grace period, SIGKILL, then delete. Nothing is left behind. */
    STOP,
    /**
     * Leave the tasks whose runtime lets them outlive their owner (containers under a shim) running, for a later
     * {@link TaskManager#restore()} over the same state; stop the others as {@link #STOP} does.
     */
    DETACH
}
