package dev.berth.tasks.remote;

import dev.berth.core.internal.undo.Undo;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.Identifiers;
import dev.berth.core.KillScope;
import dev.berth.core.Process;
import dev.berth.core.ProcessInfo;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.core.Task;
import dev.berth.core.TaskSpec;
import dev.berth.core.oci.OciSpecs;
import dev.berth.core.oci.Spec;
import dev.berth.tasks.remote.proto.containers.ContainersGrpc;
import dev.berth.tasks.remote.proto.containers.DeleteContainerRequest;
import dev.berth.shims.internal.v2.proto.runc.ProcessDetails;
import dev.berth.tasks.remote.proto.tasks.DeleteTaskRequest;
import dev.berth.tasks.remote.proto.tasks.DeleteProcessRequest;
import dev.berth.tasks.remote.proto.tasks.ExecProcessRequest;
import dev.berth.tasks.remote.proto.tasks.ListPidsRequest;
import dev.berth.tasks.remote.proto.tasks.PauseTaskRequest;
import dev.berth.tasks.remote.proto.tasks.ResumeTaskRequest;
import dev.berth.tasks.remote.proto.tasks.MetricsRequest;
import dev.berth.tasks.remote.proto.tasks.TasksGrpc;
import dev.berth.tasks.remote.proto.tasks.UpdateTaskRequest;
import dev.berth.tasks.remote.proto.types.Status;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A task in a containerd daemon: a container record plus its task. Created by this service (it owns the stdio and
 * deletes the container with the task) or found in the daemon (created by {@code ctr} or another client: no
 * stdio, the container is still deleted with the task, as {@code ctr run --rm} does).
 */
final class RemoteTask extends RemoteProcessBase implements Task {
    private static final Logger log = LoggerFactory.getLogger(RemoteTask.class);
    /** How long a forced delete waits for the exit after SIGKILL. */
    static final Duration KILL_WAIT = Duration.ofSeconds(10);

    private final TaskSpec spec;
    private final boolean owned;
    private final Clock clock;
    private final Consumer<RemoteTask> onDeleted;
    private final ConcurrentHashMap<String, RemoteExec> execs = new ConcurrentHashMap<>();

    RemoteTask(Daemon daemon, String namespace, TaskSpec spec, ProcessIo io, ExitWatch exit, boolean started,
            boolean owned, Clock clock, Consumer<RemoteTask> onDeleted) {
        super(daemon, namespace, spec.id(), "", io, exit, started);
        this.spec = spec;
        this.owned = owned;
        this.clock = clock;
        this.onDeleted = onDeleted;
    }

    @Override
    public String id() {
        return containerId;
    }

    @Override
    public String namespace() {
        return namespace;
    }

    @Override
    public TaskSpec spec() {
        return spec;
    }

    boolean owned() {
        return owned;
    }

    Collection<RemoteExec> execs() {
        return execs.values();
    }

    @Override
    public Mono<Void> kill(Signal signal, KillScope scope) {
        return kill(signal, scope == KillScope.ALL);
    }

    @Override
    public Mono<Void> pause() {
        return requireStatus(Status.RUNNING, "pause")
                .then(daemon.calls.unary(namespace, TasksGrpc.getPauseMethod(),
                        PauseTaskRequest.newBuilder().setContainerId(containerId).build()))
                .then();
    }

    @Override
    public Mono<Void> resume() {
        return requireStatus(Status.PAUSED, "resume")
                .then(daemon.calls.unary(namespace, TasksGrpc.getResumeMethod(),
                        ResumeTaskRequest.newBuilder().setContainerId(containerId).build()))
                .then();
    }

    /** The Go client's state checks, made before a call the daemon would refuse with UNKNOWN. */
    private Mono<Void> requireStatus(Status wanted, String what) {
        return requireStatus(List.of(wanted), what);
    }

    private Mono<Void> requireStatus(List<Status> wanted, String what) {
        return Mono.defer(() -> deleted.get()
                ? Mono.error(Errors.failedPrecondition("%s: %s is deleted", what, who()))
                : get().onErrorMap(e -> Errors.is(e, ErrorKind.NOT_FOUND),
                                e -> Errors.of(ErrorKind.FAILED_PRECONDITION, e, "%s: %s is gone", what, who()))
                        .flatMap(p -> wanted.contains(p.getStatus()) ? Mono.<Void>empty()
                                : Mono.error(Errors.failedPrecondition("%s: %s is %s, not %s", what, who(),
                                        p.getStatus(), wanted.size() == 1 ? wanted.get(0) : wanted))));
    }

    /** Tasks/Update with the resources as OCI JSON (spec §1.5); the daemon has the shim apply them. */
    @Override
    public Mono<Void> update(dev.berth.core.oci.LinuxResources resources) {
        return Mono.defer(() -> {
            java.util.Objects.requireNonNull(resources, "resources");
            String json = OciSpecs.toJson(resources);
            if ("{}".equals(json)) {
                return Mono.error(Errors.invalidArgument("update of %s sets no resource", who()));
            }
            return requireStatus(List.of(Status.RUNNING, Status.PAUSED), "update")
                    .then(daemon.calls.unary(namespace, TasksGrpc.getUpdateMethod(),
                            UpdateTaskRequest.newBuilder().setContainerId(containerId)
                                    .setResources(TypeUrls.json(TypeUrls.LINUX_RESOURCES, json)).build()))
                    .then();
        });
    }

    /** Tasks/Metrics filtered to this task; its data is the host's cgroups Metrics, not decoded. */
    @Override
    public Mono<dev.berth.core.TaskMetrics> metrics() {
        return requireStatus(List.of(Status.RUNNING, Status.PAUSED), "sample the metrics of")
                .then(daemon.calls.unary(namespace, TasksGrpc.getMetricsMethod(),
                        MetricsRequest.newBuilder().addFilters("id==" + containerId).build()))
                .flatMap(r -> r.getMetricsList().stream().filter(m -> m.getId().equals(containerId)).findFirst()
                        .map(m -> Mono.just(new dev.berth.core.TaskMetrics(
                                Timestamps.instant(m.getTimestamp()) != null ? Timestamps.instant(m.getTimestamp())
                                        : java.time.Instant.now(), m.getData())))
                        .orElseGet(() -> Mono.error(Errors.notFound("no metrics for %s", who()))));
    }

    @Override
    public Mono<Process> exec(String id, ProcessSpec processSpec) {
        return Mono.defer(() -> {
            Identifiers.validate("exec id", id);
            processSpec.validate();
            if (execs.containsKey(id)) {
                return Mono.error(Errors.alreadyExists("exec %s already exists in %s", id, who()));
            }
            Path rootfs = spec.rootfs() != null ? spec.rootfs() : Path.of("/");
            String json = OciSpecs.toJson(Spec.defaults(namespace, containerId, rootfs, processSpec.args(),
                    processSpec.env(), processSpec.cwd() == null ? "/" : processSpec.cwd()).process()
                    .withTerminal(false));
            ExitWatch watch = new ExitWatch(daemon, namespace, containerId, id, clock);
            Undo undo = new Undo(who() + " exec " + id, daemon.schedulers.timer());
            return requireStatus(Status.RUNNING, "exec " + id)
                    .then(ProcessIo.open(daemon, who() + " exec " + id, id, processSpec.stdio(), watch.asMono(),
                            true))
                    .flatMap(pio -> {
                        undo.push("release the exec's stdio", pio::release);
                        ExecProcessRequest request = Validation.exec(ExecProcessRequest.newBuilder()
                                .setContainerId(containerId)
                                .setExecId(id)
                                .setStdin(pio.stdinUri())
                                .setStdout(pio.stdoutUri())
                                .setStderr(pio.stderrUri())
                                .setTerminal(false)
                                .setSpec(TypeUrls.json(TypeUrls.PROCESS, json))
                                .build());
                        return daemon.calls.unary(namespace, TasksGrpc.getExecMethod(), request)
                                .then(Mono.fromSupplier(() -> {
                                    undo.push("delete the exec", () -> daemon.calls.unary(namespace,
                                            TasksGrpc.getDeleteProcessMethod(), DeleteProcessRequest.newBuilder()
                                                    .setContainerId(containerId).setExecId(id).build()).then());
                                    // Wait before Start (spec §7.2): the exec's exit is hot from here on.
                                    watch.start();
                                    undo.push("stop waiting", () -> Mono.fromRunnable(watch::stop));
                                    RemoteExec exec = new RemoteExec(this, id, pio, watch, clock);
                                    if (execs.putIfAbsent(id, exec) != null) {
                                        throw Errors.alreadyExists("exec %s already exists in %s", id, who());
                                    }
                                    undo.commit();
                                    return (Process) exec;
                                }));
                    })
                    .onErrorResume(e -> undo.run().then(Mono.error(e)))
                    .doOnCancel(() -> undo.run().subscribe());
        });
    }

    void forget(RemoteExec exec) {
        execs.remove(exec.id(), exec);
    }

    @Override
    public Flux<ProcessInfo> pids() {
        return Mono.defer(() -> deleted.get()
                        ? Mono.error(Errors.failedPrecondition("%s is deleted", who()))
                        : get().onErrorMap(e -> Errors.is(e, ErrorKind.NOT_FOUND),
                                e -> Errors.of(ErrorKind.FAILED_PRECONDITION, e, "%s is gone", who())))
                .flatMap(p -> live(p.getStatus()) ? Mono.just(p.getPid())
                        : Mono.error(Errors.failedPrecondition("%s is %s", who(), p.getStatus())))
                .flatMapMany(initPid -> daemon.calls.unary(namespace, TasksGrpc.getListPidsMethod(),
                                ListPidsRequest.newBuilder().setContainerId(containerId).build())
                        .flatMapIterable(r -> r.getProcessesList().stream()
                                .map(info -> new ProcessInfo(info.getPid(), execIdOf(info), ""))
                                .sorted(Comparator.comparing((ProcessInfo i) -> i.pid() != initPid))
                                .toList()));
    }

    private static String execIdOf(dev.berth.tasks.remote.proto.types.ProcessInfo info) {
        if (info.hasInfo() && TypeUrls.is(info.getInfo(), TypeUrls.RUNC_PROCESS_DETAILS)) {
            try {
                return ProcessDetails.parseFrom(info.getInfo().getValue()).getExecId();
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                return "";
            }
        }
        return "";
    }

    @Override
    public Mono<ExitStatus> delete() {
        return delete(false);
    }

    /**
     * Deletes the task, then our stdio, then the container (spec §9 step 10), in that order: a container deleted
     * under a live task orphans it. A live task is refused (the Go client's check; the daemon would say UNKNOWN)
     * unless {@code force}: then SIGKILL to all, resume if paused, and the exit is awaited first.
     */
    @Override
    public Mono<ExitStatus> delete(boolean force) {
        return Mono.defer(() -> {
            if (deleted.get()) {
                return Mono.empty();
            }
            return get()
                    .flatMap(p -> {
                        if (!live(p.getStatus())) {
                            return Mono.just(p);
                        }
                        if (!force) {
                            return Mono.error(Errors.failedPrecondition("%s is %s: kill it first or force",
                                    who(), p.getStatus()));
                        }
                        Mono<Void> thaw = p.getStatus() == Status.RUNNING ? Mono.empty()
                                : daemon.calls.unary(namespace, TasksGrpc.getResumeMethod(),
                                        ResumeTaskRequest.newBuilder().setContainerId(containerId).build()).then()
                                        .onErrorResume(e -> Mono.empty());
                        return kill(Signal.KILL, true)
                                .onErrorResume(e -> Errors.is(e, ErrorKind.NOT_FOUND)
                                        || Errors.is(e, ErrorKind.FAILED_PRECONDITION), e -> Mono.empty())
                                .then(thaw)
                                .then(exit.asMono().timeout(KILL_WAIT,
                                        Mono.error(() -> Errors.deadlineExceeded("%s did not exit %s after SIGKILL",
                                                who(), KILL_WAIT)), daemon.schedulers.timer()))
                                .thenReturn(p);
                    })
                    .flatMap(p -> deleteTask(p.getStatus() == Status.CREATED))
                    .onErrorResume(e -> Errors.is(e, ErrorKind.NOT_FOUND), e -> Mono.empty())
                    .then(Mono.defer(this::finish));
        });
    }

    private Mono<Void> deleteTask(boolean neverStarted) {
        boolean never = neverStarted && !started.get();
        if (never) {
            // Delete kills the created init, and its Wait would report that: a process that never ran has no exit.
            exit.completeEmpty();
        }
        return daemon.calls.unary(namespace, TasksGrpc.getDeleteMethod(),
                        DeleteTaskRequest.newBuilder().setContainerId(containerId).build())
                .doOnNext(r -> {
                    if (!never && r.getPid() != 0) {
                        exit.emit(Timestamps.exit(r.getExitStatus(), r.getExitedAt(), clock.instant()));
                    }
                })
                .then();
    }

    private Mono<ExitStatus> finish() {
        if (!deleted.compareAndSet(false, true)) {
            return Mono.empty();
        }
        ExitStatus status = exit.now();
        if (status == null) {
            exit.completeEmpty();
        } else {
            exit.stop();
        }
        List<RemoteExec> left = List.copyOf(execs.values());
        execs.clear();
        return Flux.fromIterable(left).concatMap(e -> e.io.release().then(Mono.fromRunnable(e.exit::stop)))
                .then(io.release())
                .then(daemon.calls.unary(namespace, ContainersGrpc.getDeleteMethod(),
                                DeleteContainerRequest.newBuilder().setId(containerId).build()).then()
                        .onErrorResume(e -> Errors.is(e, ErrorKind.NOT_FOUND), e -> Mono.empty()))
                .doOnSuccess(v -> {
                    log.debug("[{}] deleted", who());
                    onDeleted.accept(this);
                })
                .then(Mono.justOrEmpty(status));
    }
}
