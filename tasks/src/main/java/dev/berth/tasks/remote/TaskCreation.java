package dev.berth.tasks.remote;

import dev.berth.core.internal.undo.Undo;
import dev.berth.core.Errors;
import dev.berth.core.TaskSpec;
import dev.berth.core.oci.OciSpecs;
import dev.berth.core.oci.Spec;
import dev.berth.tasks.remote.proto.containers.Container;
import dev.berth.tasks.remote.proto.containers.ContainersGrpc;
import dev.berth.tasks.remote.proto.containers.CreateContainerRequest;
import dev.berth.tasks.remote.proto.containers.DeleteContainerRequest;
import dev.berth.shims.internal.v2.proto.runc.Options;
import dev.berth.tasks.remote.proto.tasks.CreateTaskRequest;
import dev.berth.tasks.remote.proto.tasks.DeleteTaskRequest;
import dev.berth.tasks.remote.proto.tasks.KillRequest;
import dev.berth.tasks.remote.proto.tasks.TasksGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * One create (spec §9 steps 3-7): the container record (OCI spec from the TaskSpec, runtime
 * {@code io.containerd.runc.v2}), the FIFOs and our read ends, Tasks/Create, our stdin end, then Tasks/Wait so the
 * exit is hot before anybody can start the task. Each step that succeeded is undone, newest first, if a later one
 * fails or the create is cancelled: nothing is left behind (no container, task, FIFO or descriptor).
 */
final class TaskCreation {
    private static final Logger log = LoggerFactory.getLogger(TaskCreation.class);
    static final String RUNTIME = "io.containerd.runc.v2";

    private final Daemon daemon;
    private final String namespace;
    private final TaskSpec spec;
    private final Clock clock;
    private final Consumer<RemoteTask> onDeleted;
    private final Undo undo;

    TaskCreation(Daemon daemon, String namespace, TaskSpec spec, Clock clock, Consumer<RemoteTask> onDeleted) {
        this.daemon = daemon;
        this.namespace = namespace;
        this.spec = spec;
        this.clock = clock;
        this.onDeleted = onDeleted;
        this.undo = new Undo(namespace + "/" + spec.id(), daemon.schedulers.timer());
    }

    /** Checks what can be checked without the daemon: id, process spec, runtime, rootfs given. */
    static void validate(TaskSpec spec) {
        spec.validate();
        if (!spec.runtime().isEmpty() && !spec.runtime().equals(RUNTIME)) {
            throw Errors.invalidArgument("task %s: runtime %s is not supported by the containerd client, only %s",
                    spec.id(), spec.runtime(), RUNTIME);
        }
        if (spec.rootfs() == null) {
            throw Errors.invalidArgument("task %s has no rootfs: a containerd task runs a container", spec.id());
        }
    }

    Mono<RemoteTask> run() {
        return rootfs()
                .flatMap(this::createContainer)
                .then(Mono.defer(this::createTask))
                .onErrorResume(e -> undo.run().then(Mono.error(e)))
                .doOnCancel(() -> undo.run().subscribe());
    }

    private Mono<Path> rootfs() {
        return Mono.fromCallable(() -> {
            Path rootfs = spec.rootfs().toAbsolutePath().normalize();
            if (!Files.isDirectory(rootfs)) {
                throw Errors.notFound("rootfs %s of task %s is not a directory", rootfs, spec.id());
            }
            return rootfs;
        }).subscribeOn(daemon.schedulers.syscalls());
    }

    private Mono<Void> createContainer(Path rootfs) {
        return Mono.defer(() -> {
            String cwd = spec.process().cwd() == null ? "/" : spec.process().cwd();
            String json = OciSpecs.toJson(Spec.defaults(namespace, spec.id(), rootfs, spec.process().args(),
                    spec.process().env(), cwd));
            Container container = Validation.container(Container.newBuilder()
                    .setId(spec.id())
                    .setRuntime(Container.Runtime.newBuilder()
                            .setName(RUNTIME)
                            // ctr sends an empty Options message; under its bare URL (never Any.pack).
                            .setOptions(TypeUrls.message(Options.getDefaultInstance())))
                    .setSpec(TypeUrls.json(TypeUrls.SPEC, json))
                    .build());
            return daemon.calls.unary(namespace, ContainersGrpc.getCreateMethod(),
                            CreateContainerRequest.newBuilder().setContainer(container).build())
                    .doOnNext(r -> undo.push("delete the container", () -> daemon.calls.unary(namespace,
                            ContainersGrpc.getDeleteMethod(),
                            DeleteContainerRequest.newBuilder().setId(spec.id()).build()).then()))
                    .then();
        });
    }

    private Mono<RemoteTask> createTask() {
        ExitWatch watch = new ExitWatch(daemon, namespace, spec.id(), "", clock);
        return ProcessIo.open(daemon, namespace + "/" + spec.id(), spec.id(), spec.process().stdio(), watch.asMono(),
                        false)
                .flatMap(io -> {
                    undo.push("release stdio", io::release);
                    CreateTaskRequest request = Validation.createTask(CreateTaskRequest.newBuilder()
                            .setContainerId(spec.id())
                            .setStdin(io.stdinUri())
                            .setStdout(io.stdoutUri())
                            .setStderr(io.stderrUri())
                            .setTerminal(false)
                            .build());
                    // Pushed before the call: a Create that fails part-way (or is cancelled) can leave a shim.
                    undo.push("delete the task", this::deleteTask);
                    return daemon.calls.unary(namespace, TasksGrpc.getCreateMethod(), request)
                            .then(io.openInitStdin())
                            .then(Mono.fromSupplier(() -> {
                                // Wait right after Create (spec §7.2): exit() is hot before start.
                                watch.start();
                                RemoteTask task = new RemoteTask(daemon, namespace, spec, io, watch, false, true,
                                        clock, onDeleted);
                                undo.commit();
                                log.debug("[{}/{}] created", namespace, spec.id());
                                return task;
                            }));
                });
    }

    /** Kill and delete whatever Tasks/Create left; NOT_FOUND (nothing there) is fine. */
    private Mono<Void> deleteTask() {
        return daemon.calls.unary(namespace, TasksGrpc.getKillMethod(), KillRequest.newBuilder()
                        .setContainerId(spec.id()).setSignal(9).setAll(true).build())
                .onErrorResume(e -> Mono.empty())
                .then(daemon.calls.unary(namespace, TasksGrpc.getDeleteMethod(),
                        DeleteTaskRequest.newBuilder().setContainerId(spec.id()).build()))
                .then()
                .onErrorResume(e -> dev.berth.core.Errors.is(e, dev.berth.core.ErrorKind.NOT_FOUND),
                        e -> Mono.empty());
    }
}
