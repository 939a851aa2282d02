package dev.berth;

import dev.berth.core.TaskService;

/** Entry points: ready {@link TaskService}s over Berth's runtimes. */
public final class Berth {
    private Berth() {
    }

    /**
     * A task service running plain host processes inside this JVM (the embedded runtime): no root, no daemon.
     * Close it when done; closing ends every task it still owns.
     */
    public static TaskService embedded() {
        throw new UnsupportedOperationException("not yet");
    }
}
