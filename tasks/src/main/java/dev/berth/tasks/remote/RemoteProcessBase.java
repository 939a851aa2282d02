package dev.berth.tasks.remote;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.Process;
import dev.berth.core.Signal;
import dev.berth.core.TaskStatus;
import dev.berth.tasks.remote.proto.tasks.CloseIORequest;
import dev.berth.tasks.remote.proto.tasks.GetRequest;
import dev.berth.tasks.remote.proto.tasks.KillRequest;
import dev.berth.tasks.remote.proto.tasks.StartRequest;
import dev.berth.tasks.remote.proto.tasks.TasksGrpc;
import dev.berth.tasks.remote.proto.types.Status;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What the init process of a remote task and an exec share: start, the hot exit (a {@link ExitWatch}), kill,
 * stdio, status. Every call carries the process's own namespace, whatever the caller's Context says.
 *
 * <p>Closing stdin is sequenced after Start (peers-and-lessons §2.6, moby#38001): our FIFO end is closed at once,
 * and CloseIO, which closes the shim's keep-alive writer so the process reads end of file, is sent once the process
 * was started; a close requested before Start is sent right after it.
 */
abstract class RemoteProcessBase implements Process {
    final Daemon daemon;
    final String namespace;
    final String containerId;
    final String execId;
    final ProcessIo io;
    final ExitWatch exit;
    final AtomicBoolean started;
    final AtomicBoolean deleted = new AtomicBoolean();
    private final AtomicBoolean stdinClosed = new AtomicBoolean();
    private final AtomicBoolean closeIoSent = new AtomicBoolean();

    RemoteProcessBase(Daemon daemon, String namespace, String containerId, String execId, ProcessIo io,
            ExitWatch exit, boolean started) {
        this.daemon = daemon;
        this.namespace = namespace;
        this.containerId = containerId;
        this.execId = execId;
        this.io = io;
        this.exit = exit;
        this.started = new AtomicBoolean(started);
    }

    String who() {
        return namespace + "/" + containerId + (execId.isEmpty() ? "" : " exec " + execId);
    }

    @Override
    public Mono<Integer> start() {
        return Mono.defer(() -> {
            if (deleted.get()) {
                return Mono.error(Errors.failedPrecondition("%s is deleted", who()));
            }
            if (started.get()) {
                return Mono.error(Errors.failedPrecondition("%s was started already", who()));
            }
            StartRequest request = StartRequest.newBuilder().setContainerId(containerId).setExecId(execId).build();
            return daemon.calls.unary(namespace, TasksGrpc.getStartMethod(), request)
                    .flatMap(r -> {
                        started.set(true);
                        return sendCloseIoIfClosed().thenReturn(r.getPid());
                    });
        });
    }

    @Override
    public Mono<ExitStatus> exit() {
        return exit.asMono();
    }

    @Override
    public Mono<Void> kill(Signal signal) {
        return kill(signal, false);
    }

    Mono<Void> kill(Signal signal, boolean all) {
        return Mono.defer(() -> {
            if (deleted.get()) {
                return Mono.error(Errors.notFound("%s is deleted", who()));
            }
            KillRequest request = KillRequest.newBuilder().setContainerId(containerId).setExecId(execId)
                    .setSignal(signal.number()).setAll(all).build();
            return daemon.calls.unary(namespace, TasksGrpc.getKillMethod(), request).then()
                    .onErrorMap(e -> Errors.is(e, ErrorKind.NOT_FOUND) && exit.now() != null,
                            e -> Errors.of(ErrorKind.FAILED_PRECONDITION, e, "%s has exited", who()));
        });
    }

    @Override
    public Flux<ByteBuffer> stdout() {
        return io.stdout();
    }

    @Override
    public Flux<ByteBuffer> stderr() {
        return io.stderr();
    }

    @Override
    public Mono<Void> writeStdin(Publisher<ByteBuffer> data) {
        return Mono.defer(() -> {
            if (stdinClosed.get()) {
                return Mono.error(Errors.failedPrecondition("%s: stdin is closed", who()));
            }
            return io.writeStdin(data)
                    .then(Mono.defer(this::stdinDone));
        });
    }

    @Override
    public Mono<Void> closeStdin() {
        return io.closeStdin().flatMap(had -> had ? stdinDone() : Mono.empty());
    }

    private Mono<Void> stdinDone() {
        stdinClosed.set(true);
        return started.get() ? sendCloseIoIfClosed() : Mono.empty();
    }

    private Mono<Void> sendCloseIoIfClosed() {
        return Mono.defer(() -> {
            if (!stdinClosed.get() || !closeIoSent.compareAndSet(false, true)) {
                return Mono.empty();
            }
            CloseIORequest request = CloseIORequest.newBuilder().setContainerId(containerId).setExecId(execId)
                    .setStdin(true).build();
            return daemon.calls.unary(namespace, TasksGrpc.getCloseIOMethod(), request).then()
                    // The process may be gone already; its stdin does not matter then.
                    .onErrorResume(e -> Errors.is(e, ErrorKind.NOT_FOUND), e -> Mono.empty());
        });
    }

    @Override
    public Mono<TaskStatus> status() {
        return Mono.defer(() -> {
            if (deleted.get()) {
                return Mono.just(TaskStatus.DELETED);
            }
            return get().map(p -> status(p.getStatus()))
                    .onErrorResume(e -> Errors.is(e, ErrorKind.NOT_FOUND), e -> Mono.just(TaskStatus.DELETED));
        });
    }

    /** Tasks/Get of this process. */
    Mono<dev.berth.tasks.remote.proto.types.Process> get() {
        GetRequest request = GetRequest.newBuilder().setContainerId(containerId).setExecId(execId).build();
        return daemon.calls.unary(namespace, TasksGrpc.getGetMethod(), request).map(r -> r.getProcess());
    }

    static TaskStatus status(Status s) {
        return switch (s) {
            case CREATED -> TaskStatus.CREATED;
            case RUNNING -> TaskStatus.RUNNING;
            case STOPPED -> TaskStatus.STOPPED;
            case PAUSED, PAUSING -> TaskStatus.PAUSED;
            default -> TaskStatus.UNKNOWN;
        };
    }

    static boolean live(Status s) {
        return s == Status.RUNNING || s == Status.PAUSED || s == Status.PAUSING;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + who() + "]";
    }
}
