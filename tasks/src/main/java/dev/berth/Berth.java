package dev.berth;

import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.TaskService;
import dev.berth.shims.ShimManager;
import dev.berth.shims.embedded.EmbeddedRuntime;
import dev.berth.tasks.TaskManager;
import dev.berth.tasks.TaskManagerConfig;

/** Entry points: ready {@link TaskService}s over Berth's runtimes. */
public final class Berth {
    private Berth() {
    }

    /**
     * A task service running plain host processes inside this JVM (the embedded runtime): no root, no daemon, no
     * shim process. Each task leads its own process group, inherits the JVM's environment, and ends with its init
     * process: what is left of its group is killed then, as a container's pid namespace would be. Close the service
     * when done: closing ends every task it still owns (SIGTERM, a grace period, SIGKILL).
     *
     * @throws dev.berth.core.BerthException NOT_IMPLEMENTED off Linux, UNAVAILABLE without native epoll
     */
    public static TaskService embedded() {
        return embedded(TaskManagerConfig.DEFAULT_STOP_GRACE);
    }

    /** {@link #embedded()} with another grace period between SIGTERM and SIGKILL on close. */
    public static TaskService embedded(java.time.Duration stopGrace) {
        RuntimeSchedulers schedulers = RuntimeSchedulers.create("berth");
        try {
            ShimManager runtime = EmbeddedRuntime.create(EmbeddedRuntime.Config.defaults(schedulers));
            return TaskManager.create(TaskManagerConfig.builder(runtime, schedulers)
                    .stopGrace(stopGrace)
                    .ownsSchedulers(true)
                    .build());
        } catch (RuntimeException e) {
            schedulers.dispose();
            throw e;
        }
    }
}
