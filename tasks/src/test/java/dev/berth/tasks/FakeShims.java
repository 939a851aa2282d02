package dev.berth.tasks;

import dev.berth.core.ExitStatus;
import dev.berth.core.ProcessInfo;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.core.TaskSpec;
import dev.berth.shims.RestoredShim;
import dev.berth.shims.Shim;
import dev.berth.shims.ShimManager;
import dev.berth.shims.ShimProcess;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** An in-memory runtime whose processes exit when the test says so. */
final class FakeShims implements ShimManager {
    final List<FakeShim> live = new CopyOnWriteArrayList<>();
    /** What {@link #restore()} emits. */
    final List<RestoredShim> toRestore = new CopyOnWriteArrayList<>();
    private final Queue<Mono<Shim>> nextCreates = new ArrayDeque<>();
    boolean closed;

    /** The next create returns {@code create} instead of a fresh fake shim. */
    void nextCreate(Mono<Shim> create) {
        nextCreates.add(create);
    }

    @Override
    public String runtime() {
        return "io.berth.fake";
    }

    @Override
    public Mono<Shim> create(String namespace, TaskSpec spec) {
        Mono<Shim> next = nextCreates.poll();
        if (next != null) {
            return next;
        }
        return Mono.fromCallable(() -> {
            FakeShim shim = new FakeShim(spec.id());
            live.add(shim);
            return shim;
        });
    }

    @Override
    public Mono<Void> close() {
        return Mono.fromRunnable(() -> closed = true);
    }

    @Override
    public Flux<RestoredShim> restore() {
        return Flux.fromIterable(toRestore);
    }

    /** A shim as a restore finds it: not in {@link #live} until restored. */
    FakeShim restorable(String id) {
        return new FakeShim(id);
    }

    final class FakeShim implements Shim {
        final FakeProcess init;
        final List<Signal> signals = new CopyOnWriteArrayList<>();
        /** When set, SIGTERM is recorded but does not end the task. */
        volatile boolean ignoresTerm;
        /** When set, {@link #detach()} lets go of the task; else it is NOT_IMPLEMENTED, as for the embedded runtime. */
        volatile boolean detachable;
        volatile boolean detached;
        final Sinks.Empty<Void> lost = Sinks.empty();

        /** The shim dies: its init's exit (unless there already) is unknown, then the loss completes. */
        void lose() {
            init.exitWith(ExitStatus.unknown(Instant.EPOCH));
            live.remove(this);
            lost.tryEmitEmpty();
        }

        @Override
        public Mono<Void> lost() {
            return lost.asMono();
        }

        @Override
        public Mono<Void> detach() {
            return detachable ? Mono.fromRunnable(() -> {
                detached = true;
                live.remove(this);
            }) : Shim.super.detach();
        }

        FakeShim(String id) {
            this.init = new FakeProcess(id, 100 + live.size());
        }

        @Override
        public ShimProcess init() {
            return init;
        }

        @Override
        public Mono<ShimProcess> exec(String execId, ProcessSpec spec) {
            return Mono.just(new FakeProcess(execId, 200));
        }

        @Override
        public Mono<Void> killAll(Signal signal) {
            return Mono.fromRunnable(() -> {
                signals.add(signal);
                if (signal.equals(Signal.KILL) || (signal.equals(Signal.TERM) && !ignoresTerm)) {
                    init.exitWith(ExitStatus.signaled(signal.number(), Instant.EPOCH));
                }
            });
        }

        @Override
        public Mono<Void> pause() {
            return Mono.empty();
        }

        @Override
        public Mono<Void> resume() {
            return Mono.empty();
        }

        @Override
        public Flux<ProcessInfo> pids() {
            return Flux.just(new ProcessInfo(init.pid, "", "fake"));
        }

        @Override
        public Mono<Void> delete() {
            return Mono.fromRunnable(() -> live.remove(this));
        }
    }

    static final class FakeProcess implements ShimProcess {
        final String id;
        final int pid;
        final Sinks.One<ExitStatus> exit = Sinks.one();
        @Nullable Mono<Integer> nextStart;

        FakeProcess(String id, int pid) {
            this.id = id;
            this.pid = pid;
        }

        void exitWith(ExitStatus status) {
            exit.tryEmitValue(status);
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public Mono<Integer> start() {
            return nextStart != null ? nextStart : Mono.just(pid);
        }

        @Override
        public Mono<ExitStatus> exit() {
            return exit.asMono();
        }

        @Override
        public Mono<Void> kill(Signal signal) {
            return Mono.fromRunnable(() -> exitWith(ExitStatus.signaled(signal.number(), Instant.EPOCH)));
        }

        @Override
        public Flux<ByteBuffer> stdout() {
            return Flux.empty();
        }

        @Override
        public Flux<ByteBuffer> stderr() {
            return Flux.empty();
        }

        @Override
        public Mono<Void> writeStdin(Publisher<ByteBuffer> data) {
            return Flux.from(data).then();
        }

        @Override
        public Mono<Void> closeStdin() {
            return Mono.empty();
        }

        @Override
        public Mono<Void> delete() {
            return Mono.fromRunnable(() -> exit.tryEmitEmpty());
        }
    }
}
