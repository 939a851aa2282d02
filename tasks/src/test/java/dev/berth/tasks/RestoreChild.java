package dev.berth.tasks;

import dev.berth.Berth;
import dev.berth.LocalConfig;
import dev.berth.core.Namespaces;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Task;
import dev.berth.core.TaskSpec;
import dev.berth.shims.v2.ShimV2Runtime;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The owner JVM that {@link RestoreAfterOwnerKilledTest} starts and then kills with SIGKILL: it starts two containers
 * in namespace {@code args[2]}, {@code live} (sleeps) and {@code short} (exits 7 once its {@code /tmp/go} FIFO is
 * opened and closed), prints {@code <id> <pid>} for each and a line {@code ready}, then waits to be killed.
 */
public final class RestoreChild {
    private RestoreChild() {
    }

    public static void main(String[] args) throws Exception {
        Path state = Path.of(args[0]);
        Path rootfs = Path.of(args[1]);
        String namespace = args[2];
        Duration wait = Duration.ofSeconds(30);
        TaskManager tasks = Berth.local(LocalConfig.of(state).withDefaultRuntime(ShimV2Runtime.NAME));
        for (String[] task : new String[][] {
                {"live", "/bin/sleep", "1000"},
                {"short", "/bin/sh", "-c", "read x < /tmp/go; echo bye; exit 7"}}) {
            TaskSpec spec = TaskSpec.builder(task[0], ProcessSpec.of(java.util.Arrays.copyOfRange(task, 1,
                    task.length))).rootfs(rootfs).build();
            Task created = tasks.create(spec).contextWrite(Namespaces.with(namespace)).block(wait);
            int pid = created.start().block(wait);
            System.out.println(task[0] + " " + pid);
        }
        System.out.println("ready");
        System.out.flush();
        System.in.read(); // until the test kills this JVM (or closes our stdin)
    }
}
