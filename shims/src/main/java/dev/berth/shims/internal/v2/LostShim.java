package dev.berth.shims.internal.v2;

import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.ProcessInfo;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.shims.Shim;
import dev.berth.shims.ShimProcess;
import java.nio.ByteBuffer;
import java.time.Instant;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A task a restore found with its shim already dead: nothing runs any more, and {@code cleanup} (the delete action,
 * the socket, the bundle) is under way. Its init's exit is UNKNOWN once the cleanup is done, then {@link #lost()}
 * completes; every command but {@link #delete()} fails with NOT_FOUND, as for a shim lost under a live
 * {@link V2Shim}.
 */
final class LostShim implements Shim {
    private final String name;
    private final Sinks.One<ExitStatus> exit = Sinks.one();
    private final Sinks.Empty<Void> lost = Sinks.empty();
    private final Init init = new Init();

    /**
     * {@code cleanup} is subscribed once, now (an owned boundary: it runs whether or not anyone waits); its failure
     * is logged by the caller and still ends the task. The exit is emitted before the loss, so whoever follows both
     * has seen the exit when the loss comes.
     */
    LostShim(String name, Mono<Void> cleanup) {
        this.name = name;
        cleanup.onErrorResume(e -> Mono.empty()).subscribe(null, null, () -> {
            exit.tryEmitValue(ExitStatus.unknown(Instant.now()));
            lost.tryEmitEmpty();
        });
    }

    private <T> Mono<T> gone() {
        return Mono.error(Errors.notFound("task %s is gone: its shim died while nobody owned it", name));
    }

    @Override
    public ShimProcess init() {
        return init;
    }

    @Override
    public Mono<ShimProcess> exec(String execId, ProcessSpec spec) {
        return gone();
    }

    @Override
    public Mono<Void> killAll(Signal signal) {
        return gone();
    }

    @Override
    public Mono<Void> pause() {
        return gone();
    }

    @Override
    public Mono<Void> resume() {
        return gone();
    }

    @Override
    public Flux<ProcessInfo> pids() {
        return Flux.defer(this::gone);
    }

    @Override
    public Mono<Void> delete() {
        return lost.asMono();
    }

    @Override
    public Mono<Void> lost() {
        return lost.asMono();
    }

    @Override
    public Mono<Void> detach() {
        return gone();
    }

    private final class Init implements ShimProcess {
        @Override
        public String id() {
            return name.substring(name.indexOf('/') + 1);
        }

        @Override
        public Mono<Integer> start() {
            return gone();
        }

        @Override
        public Mono<ExitStatus> exit() {
            return exit.asMono();
        }

        @Override
        public Mono<Void> kill(Signal signal) {
            return gone();
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
            return gone();
        }

        @Override
        public Mono<Void> closeStdin() {
            return gone();
        }

        @Override
        public Mono<Void> delete() {
            return lost.asMono();
        }
    }
}
