package dev.berth.tasks;


import dev.berth.core.ProcessSpec;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import dev.berth.shims.testing.BusyboxRootfs;
import dev.berth.shims.testing.ContainerTests;
import dev.berth.shims.v2.ShimV2Runtime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour suite against the shim v2 runtime: every task is a busybox container under its own
 * {@code containerd-shim-runc-v2}, as root. Lifecycle loops run {@link #lifecycleCount} = 50 rounds instead of
 * 1,000 or 500 for run time only (a shim daemon and runc per task, about 70 ms a round). After the class, shims left
 * carrying one of its state directories are killed and their runc containers deleted.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class ShimV2BehaviourTest extends TaskServiceBehaviour {
    static final int LIFECYCLES = 50;

    @TempDir
    static Path dir;
    static final AtomicInteger serial = new AtomicInteger();
    static final List<Path> states = new ArrayList<>();
    Path rootfs;

    @Override
    protected TaskService newService() {
        ContainerTests.requirePrerequisites("the shim v2 behaviour tests");
        try {
            Path test = dir.resolve("t" + serial.incrementAndGet());
            Path state = test.resolve("state");
            synchronized (states) {
                states.add(state);
            }
            rootfs = BusyboxRootfs.create(test.resolve("rootfs"));
            // Named as Berth.embedded() names them: the suite counts threads outside the "berth-syscalls" pool.
            RuntimeSchedulers schedulers = RuntimeSchedulers.create("berth");
            return TaskManager.create(TaskManagerConfig.builder(
                            ShimV2Runtime.create(ShimV2Runtime.Config.defaults(state, schedulers)), schedulers)
                    .ownsSchedulers(true)
                    .build());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected TaskSpec taskSpec(String id, ProcessSpec spec) {
        return TaskSpec.builder(id, spec).runtime(ShimV2Runtime.NAME).rootfs(rootfs).build();
    }

    @Override
    protected int lifecycleCount(int usual) {
        return Math.min(usual, LIFECYCLES);
    }

    @AfterAll
    static void killStrays() throws Exception {
        synchronized (states) {
            for (Path state : states) {
                ContainerTests.removeLeftovers(state);
            }
            states.clear();
        }
    }
}
