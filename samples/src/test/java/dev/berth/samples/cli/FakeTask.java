package dev.berth.samples.cli;

import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.KillScope;
import dev.berth.core.Namespaces;
import dev.berth.core.Process;
import dev.berth.core.ProcessInfo;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.core.Task;
import dev.berth.core.TaskSpec;
import dev.berth.core.TaskStatus;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A task that never runs anything: its {@link Script} decides what it prints and when it exits. Output sinks are
 * unicast and buffer until the one subscriber comes, like a pipe; the exit is a {@code Sinks.one()} from creation,
 * like the real runtime's. Emissions are serialized by this object's lock (a test fake: the real runtime never
 * holds a lock while emitting).
 */
final class FakeTask implements Task {
    /** What the fake process does. Each hook runs on the thread of the call that triggers it. */
    interface Script {
        default void started(FakeTask task) {
        }

        default void stdinClosed(FakeTask task, byte[] input) {
        }

        default void signaled(FakeTask task, Signal signal, KillScope scope) {
        }

        default void stdoutCancelled(FakeTask task) {
        }

        /** Exits with {@code code} as soon as started. */
        static Script exitWith(int code) {
            return new Script() {
                @Override
                public void started(FakeTask task) {
                    task.exit(ExitStatus.exited(code, Instant.EPOCH));
                }
            };
        }
    }

    private final FakeTaskService service;
    private final String namespace;
    private final TaskSpec spec;
    private final Script script;
    private final Sinks.One<ExitStatus> exit = Sinks.one();
    private final Sinks.Many<ByteBuffer> stdout = Sinks.many().unicast().onBackpressureBuffer();
    private final Sinks.Many<ByteBuffer> stderr = Sinks.many().unicast().onBackpressureBuffer();
    private final ByteArrayOutputStream stdin = new ByteArrayOutputStream();
    final List<String> signals = new CopyOnWriteArrayList<>();
    volatile boolean stdoutCancelled;
    private volatile TaskStatus status = TaskStatus.CREATED;
    private volatile @Nullable ExitStatus exitStatus;

    FakeTask(FakeTaskService service, String namespace, TaskSpec spec, Script script) {
        this.service = service;
        this.namespace = namespace;
        this.spec = spec;
        this.script = script;
    }

    /** Writes {@code text} to the task's stdout. */
    synchronized FakeTask print(String text) {
        stdout.tryEmitNext(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8))).orThrow();
        return this;
    }

    /** Writes {@code text} to the task's stderr. */
    synchronized FakeTask printErr(String text) {
        stderr.tryEmitNext(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8))).orThrow();
        return this;
    }

    /** Ends the process: its outputs reach end of file, then its exit is emitted. */
    synchronized void exit(ExitStatus status) {
        exitStatus = status;
        this.status = TaskStatus.STOPPED;
        stdout.tryEmitComplete();
        stderr.tryEmitComplete();
        exit.tryEmitValue(status).orThrow();
    }

    synchronized byte[] stdinBytes() {
        return stdin.toByteArray();
    }

    TaskStatus currentStatus() {
        return status;
    }

    private Mono<String> recorded(String call) {
        return Mono.deferContextual(ctx -> {
            service.record(call, Namespaces.of(ctx));
            return Mono.just(call);
        });
    }

    @Override
    public String id() {
        return spec.id();
    }

    @Override
    public String namespace() {
        return namespace;
    }

    @Override
    public TaskSpec spec() {
        return spec;
    }

    @Override
    public Mono<Integer> start() {
        return recorded("start").flatMap(call -> {
            RuntimeException failure = service.startFailure;
            if (failure != null) {
                return Mono.error(failure);
            }
            if (status != TaskStatus.CREATED) {
                return Mono.error(Errors.failedPrecondition("task %s is %s", spec.id(), status));
            }
            status = TaskStatus.RUNNING;
            script.started(this);
            return Mono.just(4242);
        });
    }

    @Override
    public Mono<ExitStatus> exit() {
        return exit.asMono();
    }

    @Override
    public Mono<Void> kill(Signal signal) {
        return kill(signal, KillScope.INIT);
    }

    @Override
    public Mono<Void> kill(Signal signal, KillScope scope) {
        return recorded("kill").flatMap(call -> {
            if (status != TaskStatus.RUNNING) {
                return Mono.error(Errors.failedPrecondition("task %s is %s", spec.id(), status));
            }
            signals.add(signal.name() + "/" + scope);
            script.signaled(this, signal, scope);
            return Mono.empty();
        });
    }

    @Override
    public Flux<ByteBuffer> stdout() {
        return stdout.asFlux().doOnCancel(() -> {
            stdoutCancelled = true;
            script.stdoutCancelled(this);
        });
    }

    @Override
    public Flux<ByteBuffer> stderr() {
        return stderr.asFlux();
    }

    @Override
    public Mono<Void> writeStdin(Publisher<ByteBuffer> data) {
        return recorded("writeStdin").flatMap(call -> Flux.from(data)
                .doOnNext(this::append)
                .then(Mono.fromRunnable(() -> script.stdinClosed(this, stdinBytes()))));
    }

    private synchronized void append(ByteBuffer chunk) {
        byte[] bytes = new byte[chunk.remaining()];
        chunk.get(bytes);
        stdin.write(bytes, 0, bytes.length);
    }

    @Override
    public Mono<Void> closeStdin() {
        return recorded("closeStdin").then();
    }

    @Override
    public Mono<TaskStatus> status() {
        return Mono.fromSupplier(() -> status);
    }

    @Override
    public Mono<Void> pause() {
        return Mono.error(Errors.notImplemented("pause"));
    }

    @Override
    public Mono<Void> resume() {
        return Mono.error(Errors.notImplemented("resume"));
    }

    /** Adds an exec running the service's exec script; it is a FakeTask too, recorded in the service's execs. */
    @Override
    public Mono<Process> exec(String execId, ProcessSpec spec) {
        return recorded("exec").flatMap(call -> {
            if (status != TaskStatus.RUNNING) {
                return Mono.error(Errors.failedPrecondition("task %s is %s", this.spec.id(), status));
            }
            RuntimeException failure = service.execFailure;
            if (failure != null) {
                return Mono.error(failure);
            }
            FakeTask exec = new FakeTask(service, namespace, TaskSpec.of(execId, spec.validate()),
                    service.execScript);
            service.execs.add(exec);
            return Mono.just(exec);
        });
    }

    /** The init process, pid 4242, while it runs. */
    @Override
    public Flux<ProcessInfo> pids() {
        return Flux.defer(() -> status == TaskStatus.RUNNING
                ? Flux.just(new ProcessInfo(4242, "", "fake"))
                : Flux.error(Errors.failedPrecondition("task %s is %s", spec.id(), status)));
    }

    @Override
    public Mono<ExitStatus> delete() {
        return delete(false);
    }

    @Override
    public Mono<ExitStatus> delete(boolean force) {
        return recorded(force ? "delete(force)" : "delete").flatMap(call -> {
            synchronized (this) {
                if (status == TaskStatus.RUNNING && !force) {
                    return Mono.error(Errors.failedPrecondition("task %s is running", spec.id()));
                }
                if (status == TaskStatus.RUNNING) {
                    exit(ExitStatus.signaled(Signal.KILL.number(), Instant.EPOCH));
                }
                status = TaskStatus.DELETED;
                stdout.tryEmitComplete();
                stderr.tryEmitComplete();
                exit.tryEmitEmpty();
                return Mono.justOrEmpty(exitStatus);
            }
        });
    }
}
