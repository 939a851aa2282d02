package dev.berth.core;

/** Which processes a {@link Task#kill(Signal, KillScope)} signals. */
public enum KillScope {
    /** Only the task's init process. */
    INIT,
    /** Every process of the task: the init, its descendants in the task and every exec. */
    ALL
}
