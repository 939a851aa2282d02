package dev.berth.tasks;

import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.Process;
import dev.berth.core.Signal;
import dev.berth.core.TaskStatus;
import dev.berth.shims.ShimProcess;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicReference;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A process under the task manager: the state machine in front of a {@link ShimProcess}. The exit it hands out is
 * its own sink, emitted only after the state became STOPPED, so whoever sees the exit can delete at once.
 */
class ManagedProcess implements Process {
    private static final Logger log = LoggerFactory.getLogger(ManagedProcess.class);

    final String id;
    final ShimProcess shimProcess;
    final AtomicReference<ProcessState> state = new AtomicReference<>(ProcessState.CREATED);
    private final Sinks.One<ExitStatus> exit = Sinks.one();
    private final Disposable exitWatch;

    ManagedProcess(String id, ShimProcess shimProcess) {
        this.id = id;
        this.shimProcess = shimProcess;
        // Owned boundary: the watch lives as long as the process and is disposed on delete.
        this.exitWatch = shimProcess.exit().subscribe(this::onExit, this::onExitError, this::onNoExit);
    }

    private void onExit(ExitStatus status) {
        state.getAndUpdate(s -> s instanceof ProcessState.Deleted || s instanceof ProcessState.Deleting
                ? s : new ProcessState.Stopped(status));
        emitted(exit.tryEmitValue(status));
    }

    private void onExitError(Throwable error) {
        emitted(exit.tryEmitError(error));
    }

    private void onNoExit() {
        exit.tryEmitEmpty(); // already completed with a value when the shim emitted one
    }

    private void emitted(Sinks.EmitResult result) {
        if (result.isFailure()) {
            log.warn("exit of process {} not emitted: {}", id, result);
        }
    }

    @Override
    public String id() {
        return id;
    }

    /** A check made before a start: an exec needs a running task. */
    void checkCanStart() {
    }

    @Override
    public Mono<Integer> start() {
        return Mono.defer(() -> {
            checkCanStart();
            if (!state.compareAndSet(ProcessState.CREATED, ProcessState.STARTING)) {
                return Mono.error(Errors.failedPrecondition("process %s is %s, not CREATED: it cannot start", id,
                        state.get().status()));
            }
            // The spawn is not cancelled with the caller's wait: once asked for, it lands and the state follows.
            return Mono.fromFuture(shimProcess.start()
                    .doOnNext(pid -> state.compareAndSet(ProcessState.STARTING, new ProcessState.Running(pid)))
                    .doOnError(e -> state.compareAndSet(ProcessState.STARTING, ProcessState.CREATED))
                    .toFuture(), true);
        });
    }

    @Override
    public Mono<ExitStatus> exit() {
        return exit.asMono();
    }

    @Override
    public Mono<Void> kill(Signal signal) {
        return Mono.defer(() -> requireLive("signal").then(shimProcess.kill(signal)));
    }

    /** Completes if the process may have live processes, else fails FAILED_PRECONDITION. */
    Mono<Void> requireLive(String what) {
        ProcessState s = state.get();
        if (s instanceof ProcessState.Running || s instanceof ProcessState.Paused) {
            return Mono.empty();
        }
        return Mono.error(Errors.failedPrecondition("cannot %s process %s: it is %s", what, id, s.status()));
    }

    @Override
    public Flux<ByteBuffer> stdout() {
        return shimProcess.stdout();
    }

    @Override
    public Flux<ByteBuffer> stderr() {
        return shimProcess.stderr();
    }

    @Override
    public Mono<Void> writeStdin(Publisher<ByteBuffer> data) {
        return shimProcess.writeStdin(data);
    }

    @Override
    public Mono<Void> closeStdin() {
        return shimProcess.closeStdin();
    }

    @Override
    public Mono<TaskStatus> status() {
        return Mono.fromSupplier(() -> state.get().status());
    }

    @Override
    public Mono<ExitStatus> delete() {
        return Mono.defer(() -> {
            ProcessState s = state.get();
            if (s instanceof ProcessState.Deleted || s instanceof ProcessState.Deleting) {
                return Mono.empty();
            }
            if (s.live()) {
                return Mono.error(Errors.failedPrecondition("process %s is %s: kill it first or force the delete",
                        id, s.status()));
            }
            if (!state.compareAndSet(s, ProcessState.DELETING)) {
                return Mono.error(Errors.failedPrecondition("process %s changed state during delete", id));
            }
            return shimProcess.delete()
                    .doOnError(e -> state.compareAndSet(ProcessState.DELETING, s))
                    .then(Mono.fromRunnable(this::deleted))
                    .then(Mono.justOrEmpty(s instanceof ProcessState.Stopped stopped ? stopped.exit() : null));
        });
    }

    /** After the shim deleted the process. */
    void deleted() {
        state.set(ProcessState.DELETED);
        exitWatch.dispose();
        exit.tryEmitEmpty();
    }
}
