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
    final AtomicReference<ProcessState> state;
    private final Sinks.One<ExitStatus> exit = Sinks.one();
    private volatile Disposable exitWatch = reactor.core.Disposables.disposed();
    /** Set on the shim's exit signal, before its completion signal (same thread). */
    private boolean sawExit;

    ManagedProcess(String id, ShimProcess shimProcess, ProcessState initial) {
        this.id = id;
        this.shimProcess = shimProcess;
        this.state = new AtomicReference<>(initial);
    }

    /**
     * Starts following the shim's exit; call it once the object is fully built (a restored process's exit may
     * already be there, and is published at once).
     */
    void watchExit() {
        // Owned boundary: the watch lives as long as the process and is disposed on delete.
        this.exitWatch = shimProcess.exit().subscribe(this::onExit, this::onExitError, this::onNoExit);
    }

    /** The shim saw the exit (on its thread); publish it after the start, then let it be seen. */
    private void onExit(ExitStatus status) {
        sawExit = true;
        while (true) {
            ProcessState s = state.get();
            if (s instanceof ProcessState.Starting) {
                if (state.compareAndSet(s, new ProcessState.Exiting(status, 0))) {
                    return; // the start's acknowledgement publishes the start, then this exit
                }
            } else if (s instanceof ProcessState.Running || s instanceof ProcessState.Paused) {
                int pid = s instanceof ProcessState.Running r ? r.pid() : ((ProcessState.Paused) s).pid();
                if (state.compareAndSet(s, new ProcessState.Exiting(status, pid))) {
                    finishExit(status, pid);
                    return;
                }
            } else {
                emitted(exit.tryEmitValue(status));
                return;
            }
        }
    }

    /** Publishes the exit, marks the process STOPPED, and only then emits it to {@link #exit()}'s subscribers. */
    private void finishExit(ExitStatus status, int pid) {
        try {
            publishExit(status, pid);
        } finally {
            state.set(new ProcessState.Stopped(status));
            emitted(exit.tryEmitValue(status));
        }
    }

    /** The start was acknowledged with {@code pid}: publish it, then any exit that came meanwhile. */
    private void onStarted(int pid) {
        publishStart(pid);
        if (!state.compareAndSet(ProcessState.STARTING, new ProcessState.Running(pid))
                && state.get() instanceof ProcessState.Exiting exiting) {
            finishExit(exiting.exit(), pid);
        }
    }

    /** Publishes this process's start event. */
    void publishStart(int pid) {
    }

    /** Publishes this process's exit event. */
    void publishExit(ExitStatus status, int pid) {
    }

    private void onExitError(Throwable error) {
        emitted(exit.tryEmitError(error));
    }

    private void onNoExit() {
        if (!sawExit) {
            exit.tryEmitEmpty(); // deleted before it ever ran
        }
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
                    .doOnNext(this::onStarted)
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
