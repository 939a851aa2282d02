package dev.berth;

import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.TaskService;
import dev.berth.core.os.Syscalls;
import dev.berth.events.EventExchange;
import dev.berth.shims.ShimManager;
import dev.berth.shims.embedded.EmbeddedRuntime;
import dev.berth.shims.v2.ShimV2Runtime;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
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

    /**
     * A task service with both local runtimes: the embedded one (plain host processes) and the shim v2 one
     * ({@link ShimV2Runtime#NAME}: containers under {@code containerd-shim-runc-v2} and runc, which needs root).
     * A task picks its runtime with {@link dev.berth.core.TaskSpec#runtime()}; the config names the default. The
     * shims' own events are forwarded into {@link TaskService#events()} beside the service's lifecycle events.
     *
     * <p>The state directory has one owner at a time: a second service over it, in this process or another, fails
     * with FAILED_PRECONDITION until the first is closed (or its process died). Containers left by a previous owner
     * are taken over by {@link TaskManager#restore()}.
     *
     * @throws dev.berth.core.BerthException FAILED_PRECONDITION when another owner holds the state directory,
     *     NOT_IMPLEMENTED off Linux, UNAVAILABLE without native epoll
     */
    public static TaskManager local(LocalConfig config) {
        java.util.Objects.requireNonNull(config, "config");
        RuntimeSchedulers schedulers = RuntimeSchedulers.create("berth");
        List<ShimManager> started = new ArrayList<>();
        try {
            EventExchange exchange = EventExchange.create(schedulers, Clock.systemUTC());
            ShimManager embedded = EmbeddedRuntime.create(EmbeddedRuntime.Config.defaults(schedulers));
            started.add(embedded);
            ShimManager v2 = ShimV2Runtime.create(new ShimV2Runtime.Config(config.state(), schedulers,
                    Syscalls.linux(), null, exchange, ShimV2Runtime.DEFAULT_DRAIN_TIMEOUT, config.shimsPerNamespace(),
                    config.shimLinger()));
            started.add(v2);
            ShimManager first = config.defaultRuntime().equals(ShimV2Runtime.NAME) ? v2 : embedded;
            ShimManager second = first == v2 ? embedded : v2;
            return TaskManager.create(TaskManagerConfig.builder(first, schedulers)
                    .runtime(second)
                    .exchange(exchange)
                    .stopGrace(config.stopGrace())
                    .closePolicy(config.closePolicy())
                    .ownsSchedulers(true)
                    .build());
        } catch (RuntimeException e) {
            started.forEach(m -> m.close().subscribe(null, x -> { }));
            schedulers.dispose();
            throw e;
        }
    }

    /**
     * A task service over a containerd daemon (1.6) listening on {@code socket}, e.g.
     * {@code /run/containerd/containerd.sock}: containers run by the daemon's {@code io.containerd.runc.v2} runtime
     * from each TaskSpec's rootfs directory, so every TaskSpec needs a rootfs. The namespace of each call is the
     * Reactor Context's ({@link dev.berth.core.Namespaces}), sent to the daemon as {@code containerd-namespace}.
     * Stdio FIFOs are made under {@code /run/berth/.fifo}. {@code get} and {@code list} also return tasks other
     * clients (such as {@code ctr}) created; those have no stdio here. {@code events()} subscribes to the daemon's
     * event stream with the filters applied by the daemon.
     *
     * <p>When the daemon goes away, commands fail with UNAVAILABLE, but each tracked task's {@code exit()} and every
     * event subscription reconnect once the daemon serves again: an exit during the outage is still delivered,
     * once, and a subscriber receives a gap marker envelope ({@code /berth/events/gap}) for the events it missed.
     * Nothing connects until the first call. Closing the service force-deletes the tasks it created and closes the
     * connection; the daemon and other clients' tasks are left alone.
     *
     * @param socket the daemon's gRPC socket (the caller needs access to it: root, or its group)
     * @throws dev.berth.core.BerthException UNAVAILABLE if native epoll is not available on this machine
     */
    public static TaskService containerd(java.nio.file.Path socket) {
        return dev.berth.tasks.remote.RemoteTaskService.connect(socket,
                dev.berth.tasks.remote.RemoteTaskService.DEFAULT_FIFO_ROOT,
                dev.berth.tasks.remote.RemoteTaskService.DEFAULT_DRAIN_TIMEOUT);
    }
}
