package dev.berth.tasks.remote;

import dev.berth.Berth;
import dev.berth.core.ProcessSpec;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import dev.berth.shims.testing.BusyboxRootfs;
import dev.berth.tasks.TaskServiceBehaviour;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The behaviour suite against the remote service: {@link Berth#containerd(Path)} over a private containerd daemon
 * ({@link PrivateContainerd}), every task a busybox container created through the daemon. As for the shim v2
 * runtime, lifecycle loops run {@link #lifecycleCount} = 50 rounds, for run time only.
 *
 * <p>The suite's calls without a namespace act in {@value #NS} here, not in {@code default} ({@link
 * DefaultNamespace}): runc's state and the cgroups are per host, and other suites use {@code default}. The one test
 * that names another namespace ({@code other}) keeps it. Before each test, whatever an earlier test left in the
 * daemon is force-deleted with ctr, with a loud line naming it.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class ContainerdBehaviourTest extends TaskServiceBehaviour {
    static final String NS = "h7-behaviour";
    static final int LIFECYCLES = 50;

    @RegisterExtension
    static final PrivateContainerd containerd = new PrivateContainerd(NS);
    static final AtomicInteger serial = new AtomicInteger();
    Path rootfs;

    @Override
    protected TaskService newService() {
        for (String ns : List.of(NS, "other")) {
            List<String> left = containerd.removeAll(ns);
            if (!left.isEmpty()) {
                System.err.println("ContainerdBehaviourTest: an earlier test left containers " + left + " in " + ns);
            }
        }
        try {
            rootfs = BusyboxRootfs.create(containerd.dir().resolve("rootfs-" + serial.incrementAndGet()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new DefaultNamespace(Berth.containerd(containerd.socket()), NS);
    }

    @Override
    protected TaskSpec taskSpec(String id, ProcessSpec spec) {
        return TaskSpec.builder(id, spec).rootfs(rootfs).build();
    }

    @Override
    protected int lifecycleCount(int usual) {
        return Math.min(usual, LIFECYCLES);
    }
}
