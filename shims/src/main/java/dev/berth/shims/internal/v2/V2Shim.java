package dev.berth.shims.internal.v2;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.ProcessInfo;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.core.Stdio;
import dev.berth.core.TaskSpec;
import dev.berth.core.oci.OciSpecs;
import dev.berth.core.oci.Spec;
import dev.berth.core.internal.ttrpc.TtrpcClient;
import dev.berth.core.internal.undo.Undo;
import dev.berth.io.IoLoop;
import dev.berth.io.OutputPipe;
import dev.berth.shims.Shim;
import dev.berth.shims.ShimProcess;
import dev.berth.shims.internal.v2.proto.DeleteRequest;
import dev.berth.shims.internal.v2.proto.ExecProcessRequest;
import dev.berth.shims.internal.v2.proto.KillRequest;
import dev.berth.shims.internal.v2.proto.PauseRequest;
import dev.berth.shims.internal.v2.proto.PidsRequest;
import dev.berth.shims.internal.v2.proto.PidsResponse;
import dev.berth.shims.internal.v2.proto.ResumeRequest;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One task under a pooled {@code containerd-shim-runc-v2} daemon ({@link PooledShim}, whose connection it shares
 * with the daemon's other tasks): the bundle, the init process and its execs.
 *
 * <p>The task's hold on the daemon ends one of three ways, whichever is first: our own {@link #delete()} (Delete,
 * then the daemon given back), our {@link #detach()}, or a drop of the connection we did not cause, which is the
 * loss of the shim (and of every task on it): then {@link DeadShimCleanup} runs
 * (the binary's {@code delete} action, the socket, the bundle), every exit not yet known completes UNKNOWN and
 * {@link #lost()} completes. After a loss, {@link #delete()} completes once that cleanup is done and every other
 * command fails with NOT_FOUND (the task is gone, as containerd reports it then); after a detach they fail with
 * FAILED_PRECONDITION.
 */
final class V2Shim implements Shim {
    private static final Logger log = LoggerFactory.getLogger(V2Shim.class);

    /** How the task's hold on the daemon ended, set once by whoever ends it first. */
    private enum End {
        /** Our delete. */
        SHUTDOWN,
        /** Let go on purpose. */
        DETACHED,
        /** Dropped by the other side (the daemon died). */
        LOST
    }

    private final V2ShimManager manager;
    private final Bundle bundle;
    private final ShimStart shimStart;
    private final PooledShim.Lease lease;
    private final Path socket;
    private final TtrpcClient ttrpc;
    private final ShimTaskClient client;
    private final int shimPid;
    private final V2Process init;
    private final AtomicBoolean deleting = new AtomicBoolean();
    private final AtomicReference<@Nullable End> end = new AtomicReference<>();
    /** Completes our stdio readers' drain once detached or lost (they follow the exit otherwise). */
    private final Sinks.Empty<Void> released;
    private final Sinks.Empty<Void> lost = Sinks.empty();
    private final Disposable connectionWatch;
    /** Execs by id, from a successful Exec until their delete (or the task's). */
    private final Map<String, V2Process> execs = new ConcurrentHashMap<>();

    /** How long a delete that failed UNAVAILABLE waits for the connection's end, to tell a loss from an error. */
    static final Duration LOSS_GRACE = Duration.ofSeconds(2);

    /** The type URL containerd gives an exec's spec (spec §4.1; the shim reads only the value). */
    static final String PROCESS_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process";

    V2Shim(V2ShimManager manager, Bundle bundle, ShimStart shimStart, PooledShim.Lease lease, TaskSpec spec,
            Sinks.One<ExitStatus> exit, Sinks.Empty<Void> released, @Nullable OutputPipe stdout,
            @Nullable OutputPipe stderr, IoLoop.@Nullable InputPipe stdin) {
        this(manager, bundle, shimStart, lease, spec, exit, released, stdout, stderr, stdin, 0);
    }

    /**
     * A task found again by a restore: {@code restoredPid}, when not 0, is the pid of an init the shim reports as
     * started (running, paused or stopped), so that its Wait, sent now, decides its exit as for a started one.
     */
    V2Shim(V2ShimManager manager, Bundle bundle, ShimStart shimStart, PooledShim.Lease lease, TaskSpec spec,
            Sinks.One<ExitStatus> exit, Sinks.Empty<Void> released, @Nullable OutputPipe stdout,
            @Nullable OutputPipe stderr, IoLoop.@Nullable InputPipe stdin, int restoredPid) {
        this.manager = manager;
        this.bundle = bundle;
        this.shimStart = shimStart;
        this.lease = lease;
        this.socket = lease.shim().socket();
        this.released = released;
        this.ttrpc = lease.shim().ttrpc();
        this.client = lease.shim().client();
        this.shimPid = lease.shim().shimPid();
        this.init = new V2Process(name(), spec.id(), client, manager.schedulers(), exit, spec.process().stdio(),
                stdout, stderr, stdin);
        if (restoredPid > 0) {
            init.restoredAsStarted(restoredPid);
        }
        // Wait right after Create (spec §7.4): its reply is the exit, whenever it comes.
        init.watchExit();
        // Pending calls (the Waits) have failed by the time this fires; whoever set End first decides.
        this.connectionWatch = ttrpc.onClose().subscribe(null,
                e -> log.warn("[{}] watching the connection failed", name(), e), this::connectionGone);
    }

    String name() {
        return bundle.namespace() + "/" + bundle.id();
    }

    /** The daemon's pid, from Connect. */
    int shimPid() {
        return shimPid;
    }

    /** The task's bundle. */
    Bundle bundle() {
        return bundle;
    }

    /** Runs the binary's actions for this task. */
    ShimStart shimStart() {
        return shimStart;
    }

    @Override
    public ShimProcess init() {
        return init;
    }

    /**
     * Adds the exec {@code execId} (spec §4.1, §7.2): its FIFOs in the bundle ({@code <execId>-stdout} and so on),
     * our read ends opened now (the shim opens its ends at Start), Exec with the OCI process JSON (the container's
     * defaults with the spec's args, env, a default PATH, cwd {@code /} unless given, uid 0, no terminal), then the
     * Wait whose reply is the exit. Every step is undone if a later one fails.
     *
     * <p>An output to a file is created first and handed to the shim, which opens it at the exec's Start; no reader
     * of ours is opened on that stream's FIFO.
     *
     * @return a cold Mono of the created exec. INVALID_ARGUMENT for a bad spec or exec id (or an output path that
     *     is not a regular file), ALREADY_EXISTS for an exec id in use (or the task id, whose FIFOs the init has),
     *     FAILED_PRECONDITION once the task is being deleted or was detached, NOT_FOUND once the shim is lost.
     */
    @Override
    public Mono<ShimProcess> exec(String execId, ProcessSpec spec) {
        return Mono.defer(() -> {
            spec.validate();
            Stdio stdio = spec.stdio();
            Mono<ShimProcess> refused = refuseWhenEnded();
            if (refused != null) {
                return refused;
            }
            if (deleting.get()) {
                return Mono.error(Errors.failedPrecondition("task %s is being deleted", name()));
            }
            if (execs.containsKey(execId)) {
                return Mono.error(Errors.alreadyExists("exec %s already exists in task %s", execId, name()));
            }
            String json = OciSpecs.toJson(Spec.defaults(bundle.namespace(), bundle.id(), bundle.path(),
                    spec.args(), spec.env(), spec.cwd() == null ? "/" : spec.cwd()).process().withTerminal(false));
            Undo undo = new Undo(name() + " exec " + execId, manager.schedulers().timer());
            return createExec(execId, stdio, json, undo)
                    .onErrorResume(e -> undo.run().then(Mono.error(e)))
                    .doOnCancel(() -> undo.run().subscribe());
        });
    }

    private Mono<ShimProcess> createExec(String execId, Stdio stdio, String json, Undo undo) {
        boolean stdinPipe = stdio.stdin() instanceof Stdio.PipeInput;
        Sinks.One<ExitStatus> exit = Sinks.one();
        Mono<Object> exitedOrReleased = Mono.firstWithSignal(exit.asMono(), released.asMono());
        return OutputFiles.prepare(stdio, manager.schedulers())
                .doOnNext(created -> undo.push("remove the output files created",
                        () -> OutputFiles.removeCreated(created, manager.schedulers())))
                .then(manager.bundles().createFifos(bundle, execId, stdinPipe))
                .flatMap(fifos -> {
                    undo.push("remove the FIFOs", () -> manager.bundles().removeFifos(fifos));
                    return Mono.fromCallable(() -> {
                        OutputPipe out = null;
                        if (!OutputFiles.isFile(stdio.stdout())) {
                            out = manager.openFifoReader(fifos.stdout(), exitedOrReleased);
                            undo.push("close stdout", out::close);
                        }
                        OutputPipe err = null;
                        if (!OutputFiles.isFile(stdio.stderr())) {
                            err = manager.openFifoReader(fifos.stderr(), exitedOrReleased);
                            undo.push("close stderr", err::close);
                        }
                        IoLoop.InputPipe in = null;
                        if (fifos.stdin() != null) {
                            in = manager.openExecStdin(fifos.stdin());
                            IoLoop.InputPipe opened = in;
                            undo.push("close stdin", opened::close);
                        }
                        return new V2Process(name(), bundle.id(), execId,
                                () -> Mono.fromRunnable(() -> execs.remove(execId))
                                        .then(manager.bundles().removeFifos(fifos)),
                                client, manager.schedulers(), exit, stdio, out, err, in);
                    }).subscribeOn(manager.schedulers().syscalls())
                            .flatMap(process -> addExec(execId, fifos, stdio, json, process, undo));
                });
    }

    private Mono<ShimProcess> addExec(String execId, StdioFifos fifos, Stdio stdio, String json, V2Process process,
            Undo undo) {
        ExecProcessRequest.Builder request = ExecProcessRequest.newBuilder()
                .setId(bundle.id())
                .setExecId(execId)
                .setTerminal(false)
                .setStdout(OutputFiles.stdoutTarget(stdio, fifos.stdout()))
                .setStderr(OutputFiles.stderrTarget(stdio, fifos.stderr()))
                .setSpec(Any.newBuilder().setTypeUrl(PROCESS_TYPE_URL).setValue(ByteString.copyFromUtf8(json)));
        if (fifos.stdin() != null) {
            request.setStdin(fifos.stdin().toString());
        }
        // The exec's FIFOs exist until it is deleted, so createFifos already refused an exec id in use.
        return client.exec(request.build()).then(Mono.fromSupplier(() -> {
            execs.put(execId, process);
            undo.commit();
            // Hot exit: the Wait goes out right after Exec, before anyone starts the exec.
            process.watchExit();
            log.debug("[{}] exec {} added", name(), execId);
            return process;
        }));
    }

    @Override
    public Mono<Void> killAll(Signal signal) {
        return unlessEnded(() -> client.kill(KillRequest.newBuilder().setId(bundle.id()).setSignal(signal.number())
                .setAll(true).build()));
    }

    @Override
    public Mono<Void> pause() {
        return unlessEnded(() -> client.pause(PauseRequest.newBuilder().setId(bundle.id()).build()));
    }

    @Override
    public Mono<Void> resume() {
        return unlessEnded(() -> client.resume(ResumeRequest.newBuilder().setId(bundle.id()).build()));
    }

    private Mono<Void> unlessEnded(Supplier<Mono<Void>> call) {
        return Mono.defer(() -> {
            Mono<Void> refused = refuseWhenEnded();
            return refused != null ? refused : call.get();
        });
    }

    /** NOT_FOUND once lost, FAILED_PRECONDITION once detached; {@code null} while the connection is ours. */
    private <T> @Nullable Mono<T> refuseWhenEnded() {
        End how = end.get();
        if (how == End.LOST) {
            return Mono.error(Errors.notFound("task %s is gone: its shim died", name()));
        }
        if (how == End.DETACHED) {
            return Mono.error(Errors.failedPrecondition("task %s was detached", name()));
        }
        return null;
    }

    /** The type URL containerd gives an update's resources (JSON inside, spec §4.1). */
    static final String RESOURCES_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";

    /** Update with the resources as OCI JSON; the shim has runc apply them to the container's cgroup. */
    @Override
    public Mono<Void> update(dev.berth.core.oci.LinuxResources resources) {
        return Mono.defer(() -> {
            Mono<Void> refused = refuseWhenEnded();
            if (refused != null) {
                return refused;
            }
            return client.update(dev.berth.shims.internal.v2.proto.UpdateTaskRequest.newBuilder()
                    .setId(bundle.id())
                    .setResources(Any.newBuilder().setTypeUrl(RESOURCES_TYPE_URL)
                            .setValue(ByteString.copyFromUtf8(OciSpecs.toJson(resources))))
                    .build());
        });
    }

    /** Stats: the shim's cgroup statistics of the container, as its Any. */
    @Override
    public Mono<dev.berth.core.TaskMetrics> metrics() {
        return Mono.defer(() -> {
            Mono<dev.berth.core.TaskMetrics> refused = refuseWhenEnded();
            if (refused != null) {
                return refused;
            }
            return client.stats(dev.berth.shims.internal.v2.proto.StatsRequest.newBuilder().setId(bundle.id())
                            .build())
                    .map(r -> new dev.berth.core.TaskMetrics(now(), r.getStats()));
        });
    }

    /** The task's pids, the init first; a started exec's pid carries its exec id. Commands are not decoded. */
    @Override
    public Flux<ProcessInfo> pids() {
        return Mono.defer(() -> {
                    Mono<PidsResponse> refused = refuseWhenEnded();
                    return refused != null ? refused
                            : client.pids(PidsRequest.newBuilder().setId(bundle.id()).build());
                })
                .flatMapMany(r -> {
                    int initPid = init.pid();
                    Map<Integer, String> execIds = new java.util.HashMap<>();
                    execs.forEach((execId, p) -> {
                        if (p.started() && p.pid() > 0) {
                            execIds.put(p.pid(), execId);
                        }
                    });
                    return Flux.fromIterable(r.getProcessesList())
                            .map(p -> new ProcessInfo(p.getPid(), execIds.getOrDefault(p.getPid(), ""), ""))
                            .sort(Comparator.comparing(p -> p.pid() == initPid ? 0 : 1));
                });
    }

    /**
     * Delete, close our stdio ends, remove the bundle, give the daemon back to its pool (which shuts it down once
     * it serves no task and its linger is over, see {@link ShimPool}). A never-started init's exit completes empty
     * first. A Delete the shim refuses
     * (the init still runs) fails typed and changes nothing. Runs no {@code delete} action. Once the shim is lost
     * (before or during this delete), completes when the loss's cleanup is done; after a detach, fails with
     * FAILED_PRECONDITION.
     */
    @Override
    public Mono<Void> delete() {
        return Mono.defer(() -> {
            End how = end.get();
            if (how == End.LOST) {
                return lost.asMono();
            }
            if (how == End.DETACHED) {
                return Mono.error(Errors.failedPrecondition("task %s was detached", name()));
            }
            if (!deleting.compareAndSet(false, true)) {
                return Mono.error(Errors.failedPrecondition("task %s is being deleted", name()));
            }
            Mono<java.util.Optional<ExitStatus>> deleteTask = client.delete(DeleteRequest.newBuilder()
                            .setId(bundle.id()).build())
                    .map(r -> java.util.Optional.of(V2Process.decode(r.getExitStatus(), r.getExitedAt())))
                    .onErrorResume(e -> Errors.is(e, ErrorKind.NOT_FOUND), e -> Mono.just(java.util.Optional.empty()))
                    .doOnError(e -> deleting.set(false));
            return Mono.fromRunnable(init::abandonIfNeverStarted)
                    .then(deleteTask)
                    .flatMap(this::release)
                    // The shim died under us: its loss, not this error, ends the task. (An UNAVAILABLE status
                    // from a live shim leaves the connection up: the error goes on after a short wait.)
                    .onErrorResume(e -> Errors.is(e, ErrorKind.UNAVAILABLE), e -> ttrpc.onClose()
                            .thenReturn(true)
                            .timeout(LOSS_GRACE, Mono.just(false), manager.schedulers().timer())
                            .flatMap(closed -> {
                                if (closed) {
                                    connectionGone(); // whichever of us sees the end first; it acts once
                                }
                                return end.get() == End.LOST ? lost.asMono() : Mono.<Void>error(e);
                            }));
        });
    }

    /**
     * After the shim deleted the task: our end of it. The init's exit is the Wait's, else the one Delete reported
     * ({@code deleted}; empty when the shim no longer knew the task), else unknown.
     */
    private Mono<Void> release(java.util.Optional<ExitStatus> deleted) {
        if (!end.compareAndSet(null, End.SHUTDOWN)) {
            // Lost between Delete and now (a detach waits for no delete): the loss cleans up.
            return end.get() == End.LOST ? lost.asMono()
                    : Mono.error(Errors.failedPrecondition("task %s was detached", name()));
        }
        // The connection is the daemon's, shared: its end from now on is no loss of this task.
        connectionWatch.dispose();
        return Mono.fromRunnable(() -> {
                    Instant at = now();
                    deleted.ifPresentOrElse(init::settle, () -> init.settle(at));
                    execs.values().forEach(e -> e.settle(at));
                })
                .then(init.closeStdio())
                .then(Flux.fromIterable(execs.values())
                        .concatMap(e -> Mono.fromRunnable(e::abandonIfNeverStarted).then(e.closeStdio()))
                        .then(Mono.fromRunnable(execs::clear)))
                .then(manager.bundles().remove(bundle))
                .then(lease.release())
                .then(Mono.<Void>fromRunnable(() -> manager.released(bundle)))
                .doOnSuccess(v -> log.debug("[{}] deleted from shim pid {}", name(), shimPid));
    }

    /**
     * Hot and cached: completes once the shim died without our delete or detach and its cleanup is done (see the
     * class comment). Never fails: a cleanup step that fails is logged at WARN and the loss still completes.
     */
    @Override
    public Mono<Void> lost() {
        return lost.asMono();
    }

    /**
     * Closes the connection without Shutdown, then our FIFO ends (a subscribed output drains for the drain timeout,
     * then closes) and the log drain. The bundle, the FIFOs, the daemon and the container stay; no exit completes
     * from this object any more and {@link #lost()} never completes.
     *
     * @return a cold Mono completing once released. FAILED_PRECONDITION while or after the task is deleted, or if
     *     already detached; NOT_FOUND once the shim is lost.
     */
    @Override
    public Mono<Void> detach() {
        return Mono.defer(() -> {
            if (deleting.get() || !end.compareAndSet(null, End.DETACHED)) {
                Mono<Void> refused = refuseWhenEnded();
                return refused != null ? refused
                        : Mono.error(Errors.failedPrecondition("task %s is being deleted", name()));
            }
            // Marked first, so the drop that follows is not a loss and no pending Wait decides an exit.
            init.detach();
            execs.values().forEach(V2Process::detach);
            connectionWatch.dispose();
            released.tryEmitEmpty();
            return closeOurEnds()
                    .then(lease.detach())
                    .doOnSuccess(v -> {
                        manager.released(bundle);
                        log.debug("[{}] detached from shim pid {}", name(), shimPid);
                    });
        });
    }

    private Mono<Void> closeOurEnds() {
        return init.closeStdio()
                .then(Flux.fromIterable(execs.values()).concatMap(V2Process::closeStdio).then());
    }

    /** The connection is gone: a loss unless our delete or detach ended it. */
    private void connectionGone() {
        if (!end.compareAndSet(null, End.LOST)) {
            return;
        }
        log.warn("[{}] connection to shim pid {} dropped without Shutdown: cleaning up after it", name(), shimPid);
        released.tryEmitEmpty();
        // An owned boundary: its end is lost(), which the task's owner follows. The cleanup never fails; should it,
        // the exits and the loss still complete.
        manager.deadShims().afterLoss(bundle, shimStart, socket, shimPid, closeOurEnds())
                .onErrorResume(e -> {
                    log.warn("[{}] cleanup after the shim's loss failed", name(), e);
                    return Mono.empty();
                })
                .subscribe(null, e -> log.warn("[{}] cleanup after the shim's loss failed", name(), e),
                        this::completeLoss);
    }

    /** After the cleanup: the exits not yet known become UNKNOWN, then the loss completes. */
    private void completeLoss() {
        Instant at = now();
        init.lost(at);
        execs.values().forEach(e -> e.lost(at));
        manager.released(bundle);
        Sinks.EmitResult result = lost.tryEmitEmpty();
        if (result.isFailure()) {
            log.warn("[{}] loss not emitted: {}", name(), result);
        }
        log.debug("[{}] cleaned up after the loss of shim pid {}", name(), shimPid);
    }

    private Instant now() {
        return Instant.ofEpochMilli(manager.schedulers().timer().now(TimeUnit.MILLISECONDS));
    }
}
