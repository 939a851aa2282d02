package dev.berth.shims.internal.v2;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Signal;
import dev.berth.core.Stdio;
import dev.berth.io.IoLoop;
import dev.berth.io.OutputPipe;
import dev.berth.shims.ShimProcess;
import dev.berth.shims.internal.v2.proto.CloseIORequest;
import dev.berth.shims.internal.v2.proto.DeleteRequest;
import dev.berth.shims.internal.v2.proto.KillRequest;
import dev.berth.shims.internal.v2.proto.StartRequest;
import dev.berth.shims.internal.v2.proto.WaitRequest;
import dev.berth.shims.internal.v2.proto.WaitResponse;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The init process of a v2 shim's task, or one of its execs. The init's exit is the reply to a Wait sent right after
 * Create, an exec's the reply to one sent right after Exec; stdout and stderr are our read ends of the process's
 * FIFOs, opened before Create (init) or Exec (exec, whose ends the shim opens at Start). A Wait on an exec whose
 * Start failed may never answer (pitfall 26): it is dropped when the Start fails and sent again by the next Start. An output the spec discards
 * ({@link Stdio.Output#NULL}) still goes through a FIFO (spec pitfall 15: both or neither) that is drained and
 * dropped.
 *
 * <p>Exit decoding: the shim reports {@code 128 + N} for a process killed by signal N (spec §4.3) and the wire
 * cannot tell that from a process that called {@code exit(128 + N)}. Like containerd's clients (and a shell's
 * {@code $?}), a status from 129 to 192 is decoded as {@code signaled(status - 128)}; every other status as
 * {@code exited(status)}. So {@code sh -c 'exit 130'} reads as SIGINT.
 *
 * <p>An output the spec sends to a file ({@link Stdio.FileOutput}) is written by the shim itself: there is no pipe
 * of ours, and {@link #stdout()}/{@link #stderr()} fail with FAILED_PRECONDITION, as in the embedded runtime.
 *
 * <p>A Wait that fails because the connection went (UNAVAILABLE) decides nothing: the owning {@link V2Shim} does,
 * through {@link #settle} (after its own Shutdown), {@link #lost} (the shim died) or {@link #detach} (let go: the
 * exit never completes from this object).
 */
final class V2Process implements ShimProcess {
    private static final Logger log = LoggerFactory.getLogger(V2Process.class);

    private final String shimName;
    private final String taskId;
    /** Empty for the init. */
    private final String execId;
    /** An exec's last step of delete (its FIFOs, its place in the shim); {@code null} for the init. */
    private final @Nullable Supplier<Mono<Void>> afterDelete;
    private final ShimTaskClient client;
    private final RuntimeSchedulers schedulers;
    private final Sinks.One<ExitStatus> exit;
    private final Stdio stdio;
    /** {@code null} for an output to a file. */
    private final @Nullable OutputPipe stdout;
    private final @Nullable OutputPipe stderr;
    private final IoLoop.@Nullable InputPipe stdin;
    private volatile boolean started;
    /** Let go by {@link #detach}: no exit is emitted any more. */
    private volatile boolean detached;
    /** Its shim died ({@link #lost}): commands fail with NOT_FOUND, delete skips the shim. */
    private volatile boolean gone;
    private volatile int pid;
    private volatile @Nullable Disposable waitCall;
    /** An exec's Start is outstanding: a Wait reply meanwhile is held until the Start's answer (guarded by this). */
    private boolean startInFlight;
    private @Nullable ExitStatus heldExit;

    /** The init of task {@code taskId}. */
    V2Process(String shimName, String taskId, ShimTaskClient client, RuntimeSchedulers schedulers,
            Sinks.One<ExitStatus> exit, Stdio stdio, @Nullable OutputPipe stdout, @Nullable OutputPipe stderr,
            IoLoop.@Nullable InputPipe stdin) {
        this(shimName, taskId, "", null, client, schedulers, exit, stdio, stdout, stderr, stdin);
    }

    /** The exec {@code execId} of task {@code taskId}; {@code afterDelete} runs once the shim deleted it. */
    V2Process(String shimName, String taskId, String execId, @Nullable Supplier<Mono<Void>> afterDelete,
            ShimTaskClient client, RuntimeSchedulers schedulers, Sinks.One<ExitStatus> exit, Stdio stdio,
            @Nullable OutputPipe stdout, @Nullable OutputPipe stderr, IoLoop.@Nullable InputPipe stdin) {
        this.shimName = shimName;
        this.taskId = taskId;
        this.execId = execId;
        this.afterDelete = afterDelete;
        this.client = client;
        this.schedulers = schedulers;
        this.exit = exit;
        this.stdio = stdio;
        this.stdout = stdout;
        this.stderr = stderr;
        this.stdin = stdin;
        if (stdio.stdout() instanceof Stdio.NullOutput && stdout != null) {
            discard(stdout);
        }
        if (stdio.stderr() instanceof Stdio.NullOutput && stderr != null) {
            discard(stderr);
        }
    }

    private void discard(OutputPipe pipe) {
        pipe.flux().subscribe(b -> { }, e -> log.debug("[{}] discarded output of {} ended", shimName, id(), e));
    }

    private boolean isExec() {
        return !execId.isEmpty();
    }

    /**
     * Sends the Wait whose reply is the exit. A connection that goes (UNAVAILABLE) leaves the exit to the shim's
     * owner; any other failure gives UNKNOWN once started, else an empty exit.
     */
    void watchExit() {
        waitCall = client.wait(WaitRequest.newBuilder().setId(taskId).setExecId(execId).build()).subscribe(
                r -> onWaitReply(decode(r)),
                e -> {
                    if (Errors.is(e, ErrorKind.UNAVAILABLE)) {
                        log.debug("[{}] Wait of {} ended with the connection", shimName, id());
                    } else if (started) {
                        log.warn("[{}] lost the exit of {}: reporting it unknown", shimName, id(), e);
                        emit(ExitStatus.unknown(Instant.now()));
                    } else {
                        exit.tryEmitEmpty();
                    }
                });
    }

    /**
     * After the shim's own Shutdown: an exit still pending completes UNKNOWN if the process started, else empty.
     * An exit already emitted stays.
     */
    /** Deleted with the exit the shim's Delete reported: kept only if the Wait has not given one. */
    void settle(ExitStatus deleted) {
        if (started) {
            exit.tryEmitValue(deleted);
        } else {
            exit.tryEmitEmpty();
        }
    }

    void settle(Instant at) {
        if (started) {
            exit.tryEmitValue(ExitStatus.unknown(at));
        } else {
            exit.tryEmitEmpty();
        }
    }

    /**
     * The shim died: an exit the Wait already gave stays (no second exit, no spurious 137); any other completes
     * UNKNOWN at {@code at}, started or not. From now on commands fail with NOT_FOUND.
     */
    void lost(Instant at) {
        gone = true;
        Sinks.EmitResult result = exit.tryEmitValue(ExitStatus.unknown(at));
        if (result.isSuccess()) {
            log.warn("[{}] shim lost: exit of {} unknown", shimName, id());
        }
    }

    /** Let go without ending the process: its exit never completes from this object. */
    void detach() {
        detached = true;
        Disposable call = waitCall;
        waitCall = null;
        if (call != null) {
            call.dispose();
        }
    }

    private <T> @Nullable Mono<T> refuseWhenGone() {
        if (gone) {
            return Mono.error(Errors.notFound("process %s of %s is gone: its shim died", id(), shimName));
        }
        if (detached) {
            return Mono.error(Errors.failedPrecondition("process %s of %s was detached", id(), shimName));
        }
        return null;
    }

    /**
     * The shim sometimes answers the Wait of an exec whose Start then fails (and sometimes never does, pitfall 26):
     * an exit that comes while an exec's Start is outstanding is held, emitted if the Start succeeds and dropped if
     * it fails, since the exec never ran.
     */
    private void onWaitReply(ExitStatus status) {
        synchronized (this) {
            if (startInFlight) {
                heldExit = status;
                return;
            }
        }
        emit(status);
    }

    private void startAnswered(boolean ok) {
        ExitStatus held;
        synchronized (this) {
            startInFlight = false;
            held = heldExit;
            heldExit = null;
        }
        if (ok && held != null) {
            emit(held);
        }
    }

    static ExitStatus decode(WaitResponse response) {
        return decode(response.getExitStatus(), response.getExitedAt());
    }

    /** An exit the shim reports (Wait or Delete): its status as a shell code and when, now if it gives no time. */
    static ExitStatus decode(int status, com.google.protobuf.Timestamp exitedAt) {
        return ExitStatus.fromShellCode(status, Timestamps.toInstant(exitedAt).orElseGet(Instant::now));
    }

    private void emit(ExitStatus status) {
        if (detached) {
            return;
        }
        Sinks.EmitResult result = exit.tryEmitValue(status);
        if (result.isFailure()) {
            log.warn("[{}] exit of {} not emitted: {}", shimName, id(), result);
        }
    }

    /** Before Delete of a created-but-never-started process: its exit completes empty. */
    void abandonIfNeverStarted() {
        if (!started) {
            Disposable call = waitCall;
            if (call != null) {
                call.dispose();
            }
            exit.tryEmitEmpty();
        }
    }

    int pid() {
        return pid;
    }

    boolean started() {
        return started;
    }

    /** A restored process the shim reports as started with {@code pid}: set before {@link #watchExit()}. */
    void restoredAsStarted(int pid) {
        this.pid = pid;
        this.started = true;
    }

    /** Closes our FIFO ends nobody subscribed to, and stdin. */
    Mono<Void> closeStdio() {
        return (stdout == null ? Mono.<Void>empty() : stdout.close())
                .then(stderr == null ? Mono.empty() : stderr.close())
                .then(stdin == null ? Mono.empty() : stdin.close());
    }

    @Override
    public String id() {
        return isExec() ? execId : taskId;
    }

    @Override
    public Mono<Integer> start() {
        return Mono.defer(() -> {
            Mono<Integer> refused = refuseWhenGone();
            if (refused != null) {
                return refused;
            }
            if (isExec() && waitCall == null) {
                watchExit(); // the last Start failed and dropped its Wait
            }
            started = true;
            Mono<Integer> start = client.start(StartRequest.newBuilder().setId(taskId).setExecId(execId).build())
                    .map(r -> {
                        pid = r.getPid();
                        return pid;
                    });
            if (!isExec()) {
                return start;
            }
            synchronized (this) {
                startInFlight = true;
            }
            return start.doOnNext(p -> startAnswered(true))
                    .onErrorMap(V2ShimManager::createError)
                    .doOnError(e -> {
                        startAnswered(false);
                        dropWait();
                    })
                    .doOnCancel(() -> startAnswered(true));
        });
    }

    /** Pitfall 26: a Wait on an exec whose Start failed may never answer. */
    private void dropWait() {
        started = false;
        Disposable call = waitCall;
        waitCall = null;
        if (call != null) {
            call.dispose();
        }
    }

    @Override
    public Mono<ExitStatus> exit() {
        return exit.asMono();
    }

    @Override
    public Mono<Void> kill(Signal signal) {
        return Mono.defer(() -> {
            Mono<Void> refused = refuseWhenGone();
            return refused != null ? refused : client.kill(KillRequest.newBuilder().setId(taskId).setExecId(execId)
                    .setSignal(signal.number()).build());
        });
    }

    @Override
    public Flux<ByteBuffer> stdout() {
        return output(stdio.stdout(), stdout, "stdout");
    }

    @Override
    public Flux<ByteBuffer> stderr() {
        return output(stdio.stderr(), stderr, "stderr");
    }

    /** A pipe's stream; empty for a discarded one; FAILED_PRECONDITION for a file, as the embedded runtime does. */
    private Flux<ByteBuffer> output(Stdio.Output kind, @Nullable OutputPipe pipe, String stream) {
        if (kind instanceof Stdio.FileOutput f) {
            return Flux.error(Errors.failedPrecondition("%s of process %s goes to the file %s, not a pipe", stream,
                    id(), f.file()));
        }
        return kind instanceof Stdio.PipeOutput && pipe != null ? pipe.flux() : Flux.empty();
    }

    /** Pitfall 18: closing our end is not EOF for the container; CloseIO(stdin) after it is. */
    @Override
    public Mono<Void> writeStdin(Publisher<ByteBuffer> data) {
        return Mono.defer(() -> {
            Mono<Void> refused = refuseWhenGone();
            if (refused != null) {
                return refused;
            }
            return stdin == null
                    ? Mono.error(Errors.failedPrecondition("process %s of %s has no stdin pipe", id(), shimName))
                    : stdin.write(data).then(closeIO());
        });
    }

    @Override
    public Mono<Void> closeStdin() {
        return Mono.defer(() -> {
            Mono<Void> refused = refuseWhenGone();
            if (refused != null) {
                return refused;
            }
            return stdin == null ? Mono.empty() : stdin.close().then(closeIO());
        });
    }

    private Mono<Void> closeIO() {
        return client.closeIO(CloseIORequest.newBuilder().setId(taskId).setExecId(execId).setStdin(true).build());
    }

    /**
     * The init goes with its task: {@link V2Shim#delete} frees it. An exec: Delete with its exec id (NOT_FOUND is
     * fine: the shim no longer knows it), then our FIFO ends are closed and the FIFOs removed. Once the shim is
     * lost there is nobody to ask: only our side is freed.
     */
    @Override
    public Mono<Void> delete() {
        Supplier<Mono<Void>> after = afterDelete;
        if (after == null) {
            return Mono.empty();
        }
        return Mono.defer(() -> {
            abandonIfNeverStarted();
            Mono<Void> delete = gone ? Mono.empty()
                    : client.delete(DeleteRequest.newBuilder().setId(taskId).setExecId(execId).build())
                            .then()
                            .onErrorResume(e -> Errors.is(e, ErrorKind.NOT_FOUND), e -> Mono.empty());
            return delete
                    .then(Mono.defer(this::closeStdio))
                    .then(Mono.defer(after));
        });
    }
}
