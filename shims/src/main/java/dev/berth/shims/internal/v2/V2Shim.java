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
import dev.berth.io.IoLoop;
import dev.berth.io.OutputPipe;
import dev.berth.shims.Shim;
import dev.berth.shims.ShimProcess;
import dev.berth.shims.internal.v2.proto.DeleteRequest;
import dev.berth.shims.internal.v2.proto.ExecProcessRequest;
import dev.berth.shims.internal.v2.proto.KillRequest;
import dev.berth.shims.internal.v2.proto.PauseRequest;
import dev.berth.shims.internal.v2.proto.PidsRequest;
import dev.berth.shims.internal.v2.proto.ResumeRequest;
import dev.berth.shims.internal.v2.proto.ShutdownRequest;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One task under its own {@code containerd-shim-runc-v2} daemon: the ttrpc connection, the bundle and the init
 * process, and its execs.
 */
final class V2Shim implements Shim {
    private static final Logger log = LoggerFactory.getLogger(V2Shim.class);

    private final V2ShimManager manager;
    private final Bundle bundle;
    private final TtrpcClient ttrpc;
    private final ShimTaskClient client;
    private final int shimPid;
    private final Disposable logDrain;
    private final V2Process init;
    private final AtomicBoolean deleting = new AtomicBoolean();
    /** Execs by id, from a successful Exec until their delete (or the task's). */
    private final Map<String, V2Process> execs = new ConcurrentHashMap<>();

    /** The type URL containerd gives an exec's spec (spec §4.1; the shim reads only the value). */
    static final String PROCESS_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process";

    V2Shim(V2ShimManager manager, Bundle bundle, TtrpcClient ttrpc, ShimTaskClient client, int shimPid,
            Disposable logDrain, TaskSpec spec, Sinks.One<ExitStatus> exit, OutputPipe stdout, OutputPipe stderr,
            IoLoop.@Nullable InputPipe stdin) {
        this.manager = manager;
        this.bundle = bundle;
        this.ttrpc = ttrpc;
        this.client = client;
        this.shimPid = shimPid;
        this.logDrain = logDrain;
        this.init = new V2Process(name(), spec.id(), client, manager.schedulers(), exit, spec.process().stdio(),
                stdout, stderr, stdin);
        // Wait right after Create (spec §7.4): its reply is the exit, whenever it comes.
        init.watchExit();
    }

    String name() {
        return bundle.namespace() + "/" + bundle.id();
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
     * @return a cold Mono of the created exec. INVALID_ARGUMENT for a bad spec or exec id, NOT_IMPLEMENTED for
     *     output to a file, ALREADY_EXISTS for an exec id in use (or the task id, whose FIFOs the init has),
     *     FAILED_PRECONDITION once the task is being deleted.
     */
    @Override
    public Mono<ShimProcess> exec(String execId, ProcessSpec spec) {
        return Mono.defer(() -> {
            spec.validate();
            Stdio stdio = spec.stdio();
            if (stdio.stdout() instanceof Stdio.FileOutput || stdio.stderr() instanceof Stdio.FileOutput) {
                return Mono.error(Errors.notImplemented(
                        "exec %s: output to a file is not implemented by the %s runtime yet", execId,
                        V2ShimManager.RUNTIME));
            }
            if (deleting.get()) {
                return Mono.error(Errors.failedPrecondition("task %s is being deleted", name()));
            }
            if (execs.containsKey(execId)) {
                return Mono.error(Errors.alreadyExists("exec %s already exists in task %s", execId, name()));
            }
            String json = OciSpecs.toJson(Spec.defaults(bundle.namespace(), bundle.id(), bundle.path(),
                    spec.args(), spec.env(), spec.cwd() == null ? "/" : spec.cwd()).process().withTerminal(false));
            Undo undo = new Undo(name() + " exec " + execId, manager.schedulers());
            return createExec(execId, stdio, json, undo)
                    .onErrorResume(e -> undo.run().then(Mono.error(e)))
                    .doOnCancel(() -> undo.run().subscribe());
        });
    }

    private Mono<ShimProcess> createExec(String execId, Stdio stdio, String json, Undo undo) {
        boolean stdinPipe = stdio.stdin() instanceof Stdio.PipeInput;
        Sinks.One<ExitStatus> exit = Sinks.one();
        return manager.bundles().createFifos(bundle, execId, stdinPipe)
                .flatMap(fifos -> {
                    undo.push("remove the FIFOs", () -> manager.bundles().removeFifos(fifos));
                    return Mono.fromCallable(() -> {
                        OutputPipe out = manager.openFifoReader(fifos.stdout(), exit.asMono());
                        undo.push("close stdout", out::close);
                        OutputPipe err = manager.openFifoReader(fifos.stderr(), exit.asMono());
                        undo.push("close stderr", err::close);
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
                            .flatMap(process -> addExec(execId, fifos, json, process, undo));
                });
    }

    private Mono<ShimProcess> addExec(String execId, StdioFifos fifos, String json, V2Process process, Undo undo) {
        ExecProcessRequest.Builder request = ExecProcessRequest.newBuilder()
                .setId(bundle.id())
                .setExecId(execId)
                .setTerminal(false)
                .setStdout(fifos.stdout().toString())
                .setStderr(fifos.stderr().toString())
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
        return client.kill(KillRequest.newBuilder().setId(bundle.id()).setSignal(signal.number()).setAll(true)
                .build());
    }

    @Override
    public Mono<Void> pause() {
        return client.pause(PauseRequest.newBuilder().setId(bundle.id()).build());
    }

    @Override
    public Mono<Void> resume() {
        return client.resume(ResumeRequest.newBuilder().setId(bundle.id()).build());
    }

    /** The task's pids, the init first; a started exec's pid carries its exec id. Commands are not decoded. */
    @Override
    public Flux<ProcessInfo> pids() {
        return client.pids(PidsRequest.newBuilder().setId(bundle.id()).build())
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
     * Delete, Shutdown, close the connection, wait for the daemon to be gone (a pidfd on Connect's shim pid, SIGKILL
     * after a timeout), close our stdio ends and the log FIFO, remove the bundle. A never-started init's exit
     * completes empty first. A Delete the shim refuses (the init still runs) fails typed and changes nothing.
     */
    @Override
    public Mono<Void> delete() {
        return Mono.defer(() -> {
            if (!deleting.compareAndSet(false, true)) {
                return Mono.error(Errors.failedPrecondition("task %s is being deleted", name()));
            }
            Mono<Void> deleteTask = client.delete(DeleteRequest.newBuilder().setId(bundle.id()).build())
                    .then()
                    .onErrorResume(e -> Errors.is(e, ErrorKind.NOT_FOUND), e -> Mono.empty())
                    .doOnError(e -> deleting.set(false));
            return Mono.fromRunnable(init::abandonIfNeverStarted)
                    .then(deleteTask)
                    .then(Mono.defer(this::release));
        });
    }

    private Mono<Void> release() {
        return client.shutdown(ShutdownRequest.newBuilder().setId(bundle.id()).build())
                .onErrorResume(e -> {
                    log.warn("[{}] shim shutdown failed; waiting for it anyway", name(), e);
                    return Mono.empty();
                })
                .then(ttrpc.close())
                .then(manager.awaitShimExit(shimPid, name()))
                .then(init.closeStdio())
                .then(Flux.fromIterable(execs.values())
                        .concatMap(e -> Mono.fromRunnable(e::abandonIfNeverStarted).then(e.closeStdio()))
                        .then(Mono.fromRunnable(execs::clear)))
                .then(Mono.fromRunnable(logDrain::dispose))
                .then(manager.bundles().remove(bundle))
                .then(Mono.<Void>fromRunnable(() -> manager.released(bundle)))
                .doOnSuccess(v -> log.debug("[{}] deleted, shim pid {} gone", name(), shimPid));
    }
}
