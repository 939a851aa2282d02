package dev.berth.shims.internal.v2;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.ProcessInfo;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.core.TaskSpec;
import dev.berth.core.internal.ttrpc.TtrpcClient;
import dev.berth.io.IoLoop;
import dev.berth.io.OutputPipe;
import dev.berth.shims.Shim;
import dev.berth.shims.ShimProcess;
import dev.berth.shims.internal.v2.proto.DeleteRequest;
import dev.berth.shims.internal.v2.proto.KillRequest;
import dev.berth.shims.internal.v2.proto.PauseRequest;
import dev.berth.shims.internal.v2.proto.PidsRequest;
import dev.berth.shims.internal.v2.proto.ResumeRequest;
import dev.berth.shims.internal.v2.proto.ShutdownRequest;
import java.util.Comparator;
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
 * process. Execs are not implemented in this slice.
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

    @Override
    public Mono<ShimProcess> exec(String execId, ProcessSpec spec) {
        return Mono.error(() -> Errors.notImplemented("exec is not implemented by the %s runtime yet",
                V2ShimManager.RUNTIME));
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

    /** The task's pids, the init first; exec ids and commands are not decoded in this slice. */
    @Override
    public Flux<ProcessInfo> pids() {
        return client.pids(PidsRequest.newBuilder().setId(bundle.id()).build())
                .flatMapMany(r -> {
                    int initPid = init.pid();
                    return Flux.fromIterable(r.getProcessesList())
                            .map(p -> new ProcessInfo(p.getPid(), "", ""))
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
                .then(Mono.fromRunnable(logDrain::dispose))
                .then(manager.bundles().remove(bundle))
                .doOnSuccess(v -> log.debug("[{}] deleted, shim pid {} gone", name(), shimPid));
    }
}
