package dev.berth.tasks.remote;

import dev.berth.core.ProcessSpec;
import dev.berth.core.Stdio;
import dev.berth.core.TaskSpec;
import dev.berth.core.oci.OciSpecs;
import dev.berth.core.oci.Spec;
import dev.berth.tasks.remote.proto.containers.Container;
import dev.berth.tasks.remote.proto.containers.ContainersGrpc;
import dev.berth.tasks.remote.proto.containers.GetContainerRequest;
import dev.berth.tasks.remote.proto.tasks.GetRequest;
import dev.berth.tasks.remote.proto.tasks.TasksGrpc;
import dev.berth.tasks.remote.proto.types.Process;
import dev.berth.tasks.remote.proto.types.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * Builds a {@link RemoteTask} for a task found in the daemon (created by {@code ctr} or another client, or by a
 * previous run of this program): its spec from {@code Containers/Get} (the OCI spec's args, env, cwd and root), its
 * state from {@code Tasks/Get}, and a Wait so its exit is hot. It has no stdio here. A task whose container record
 * is gone still gets a task, with an empty spec.
 */
final class Adoption {
    private final Daemon daemon;
    private final Clock clock;
    private final Consumer<RemoteTask> onDeleted;

    Adoption(Daemon daemon, Clock clock, Consumer<RemoteTask> onDeleted) {
        this.daemon = daemon;
        this.clock = clock;
        this.onDeleted = onDeleted;
    }

    /**
     * @param known the task's process from a Tasks/List, or null to ask Tasks/Get
     * @return a cold Mono of the adopted task. Fails with NOT_FOUND if the daemon has no task of that id.
     */
    Mono<RemoteTask> adopt(String namespace, String id, @Nullable Process known) {
        Mono<Process> process = known != null ? Mono.just(known)
                : daemon.calls.unary(namespace, TasksGrpc.getGetMethod(),
                        GetRequest.newBuilder().setContainerId(id).build()).map(r -> r.getProcess());
        Mono<TaskSpec> spec = daemon.calls.unary(namespace, ContainersGrpc.getGetMethod(),
                        GetContainerRequest.newBuilder().setId(id).build())
                .map(r -> specOf(id, r.getContainer()))
                .onErrorResume(e -> dev.berth.core.Errors.is(e, dev.berth.core.ErrorKind.NOT_FOUND),
                        e -> Mono.just(new TaskSpec(id, TaskCreation.RUNTIME, ProcessSpec.of(), null)));
        return process.zipWith(spec).map(t -> {
            Process p = t.getT1();
            ExitWatch watch = new ExitWatch(daemon, namespace, id, "", clock);
            boolean started = p.getStatus() != Status.CREATED;
            RemoteTask task = new RemoteTask(daemon, namespace, t.getT2(), ProcessIo.detached(daemon,
                    namespace + "/" + id), watch, started, false, clock, onDeleted);
            watch.start();
            return task;
        });
    }

    /** The TaskSpec an OCI spec describes; what cannot be read stays empty. */
    static TaskSpec specOf(String id, Container container) {
        if (!container.hasSpec() || !TypeUrls.is(container.getSpec(), TypeUrls.SPEC)) {
            return new TaskSpec(id, container.getRuntime().getName(), ProcessSpec.of(), null);
        }
        try {
            Spec spec = OciSpecs.fromJson(container.getSpec().getValue().toString(StandardCharsets.UTF_8));
            List<String> args = spec.process() == null ? List.of() : spec.process().args();
            Map<String, String> env = new LinkedHashMap<>();
            if (spec.process() != null) {
                for (String entry : spec.process().env()) {
                    int eq = entry.indexOf('=');
                    if (eq > 0) {
                        env.put(entry.substring(0, eq), entry.substring(eq + 1));
                    }
                }
            }
            String cwd = spec.process() == null ? null : spec.process().cwd();
            ProcessSpec process = new ProcessSpec(args, env, cwd, Stdio.NULL);
            Path rootfs = spec.root() == null ? null : Path.of(spec.root().path());
            return new TaskSpec(id, container.getRuntime().getName(), process, rootfs);
        } catch (RuntimeException unreadable) {
            return new TaskSpec(id, container.getRuntime().getName(), ProcessSpec.of(), null);
        }
    }
}
