package dev.berth.tasks.remote;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.tasks.remote.proto.tasks.DeleteProcessRequest;
import dev.berth.tasks.remote.proto.tasks.TasksGrpc;
import java.time.Clock;
import reactor.core.publisher.Mono;

/** An exec of a remote task: its own FIFOs, its own Wait, deleted with DeleteProcess (no /tasks/delete event). */
final class RemoteExec extends RemoteProcessBase {
    private final RemoteTask task;
    private final Clock clock;

    RemoteExec(RemoteTask task, String execId, ProcessIo io, ExitWatch exit, Clock clock) {
        super(task.daemon, task.namespace, task.containerId, execId, io, exit, false);
        this.task = task;
        this.clock = clock;
    }

    @Override
    public String id() {
        return execId;
    }

    /**
     * Refuses a running exec (the Go client's check: the daemon would say UNKNOWN), then DeleteProcess, then our
     * FIFO ends and directory.
     */
    @Override
    public Mono<ExitStatus> delete() {
        return Mono.defer(() -> {
            if (deleted.get()) {
                return Mono.empty();
            }
            return get()
                    .flatMap(p -> live(p.getStatus()) ? Mono.error(Errors.failedPrecondition(
                            "%s is %s", who(), p.getStatus())) : Mono.just(p))
                    .then(daemon.calls.unary(namespace, TasksGrpc.getDeleteProcessMethod(),
                            DeleteProcessRequest.newBuilder().setContainerId(containerId).setExecId(execId).build()))
                    .map(r -> {
                        ExitStatus known = exit.now();
                        if (known == null && r.getPid() != 0 && started.get()) {
                            exit.emit(Timestamps.exit(r.getExitStatus(), r.getExitedAt(), clock.instant()));
                        }
                        return r;
                    })
                    .onErrorResume(e -> Errors.is(e, ErrorKind.NOT_FOUND), e -> Mono.empty())
                    .then(Mono.defer(this::finish));
        });
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
        task.forget(this);
        return io.release().then(Mono.justOrEmpty(status));
    }
}
