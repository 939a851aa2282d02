package dev.berth.shims.internal.v2;

import dev.berth.core.ExitStatus;
import dev.berth.core.Stdio;
import dev.berth.core.TaskSpec;
import dev.berth.core.TaskStatus;
import dev.berth.core.os.Syscalls.OpenFlags;
import dev.berth.io.IoLoop;
import dev.berth.io.OutputPipe;
import dev.berth.shims.RestoredShim;
import dev.berth.shims.internal.v2.proto.StateResponse;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Turns what a {@link Restorer} found into tasks of the manager, whose bundles the manager already holds (see
 * {@link ForwardedEvents}); a bundle that yields no live task is released. A live shim becomes a {@link V2Shim} again: its log
 * FIFO drained, our ends of its stdio reopened (the shim kept its own, so output written meanwhile is still in the
 * pipe, spec §3.6), a new Wait as its exit. A dead one is cleaned up ({@link DeadShimCleanup}) and reported as a
 * {@link LostShim}; a bundle whose create never reached a shim is removed and not reported. Execs are not restored:
 * they end with their task.
 */
final class Adopter {
    private static final Logger log = LoggerFactory.getLogger(Adopter.class);

    private final V2ShimManager manager;
    private final Mono<ShimStart> shimStart;

    Adopter(V2ShimManager manager, Mono<ShimStart> shimStart) {
        this.manager = manager;
        this.shimStart = shimStart;
    }

    /** @return a cold Mono of the restored task, empty for a bundle that never had one */
    Mono<RestoredShim> adopt(Restorer.Found found) {
        Bundle bundle = found.bundle();
        if (found instanceof Restorer.Incomplete) {
            log.info("[{}/{}] removing a bundle whose create never started a shim", bundle.namespace(),
                    bundle.id());
            manager.released(bundle);
            return manager.bundles().remove(bundle).then(Mono.empty());
        }
        if (found instanceof Restorer.Dead dead) {
            log.warn("[{}/{}] shim gone while nobody owned it ({}): cleaning up, exit unknown", bundle.namespace(),
                    bundle.id(), dead.reason());
            // A bundle whose daemon still serves others loses only its own container and directory.
            Mono<Void> cleanup = shimStart.flatMap(start -> dead.daemonLives()
                    ? manager.deadShims().deleteAction(bundle, start).then(manager.bundles().remove(bundle))
                    : manager.deadShims().clean(bundle.namespace(), bundle, start))
                    .doOnError(e -> log.warn("[{}/{}] cleanup of a dead shim failed", bundle.namespace(), bundle.id(),
                            e));
            LostShim lost = new LostShim(bundle.namespace() + "/" + bundle.id(),
                    cleanup.doFinally(signal -> manager.released(bundle)));
            return Mono.just(new RestoredShim(bundle.namespace(), dead.spec(), lost, TaskStatus.RUNNING,
                    dead.pid()));
        }
        Restorer.Live live = (Restorer.Live) found;
        return shimStart.flatMap(start -> reattach(live, start))
                .onErrorResume(e -> {
                    manager.released(bundle);
                    return live.ttrpc().close().onErrorResume(x -> Mono.empty()).then(Mono.error(e));
                });
    }

    private Mono<RestoredShim> reattach(Restorer.Live live, ShimStart start) {
        Bundle bundle = live.bundle();
        StateResponse state = live.state();
        StdioFifos fifos = bundle.fifos(bundle.id(), true);
        Stdio stdio = stdio(state, fifos);
        TaskSpec spec = live.spec().toBuilder()
                .process(live.spec().process().toBuilder().stdio(stdio).build())
                .build();
        TaskStatus status = status(state);
        Sinks.One<ExitStatus> exit = Sinks.one();
        Sinks.Empty<Void> released = Sinks.empty();
        String who = bundle.namespace() + "/" + bundle.id();
        boolean known = manager.pool().find(bundle.namespace(), socketOf(live)) != null;
        // A daemon of an older layout logs into the task's bundle; a pooled one into its home, drained already.
        Mono<Disposable> drain = known ? Mono.just(Disposables.single())
                : manager.bundles().openLog(bundle).map(fd -> manager.drainShimLog(fd, who))
                        .onErrorResume(e -> Mono.just(Disposables.single()));
        return drain
                .flatMap(logDrain -> Mono.fromCallable(() -> {
                    Mono<?> ended = Mono.firstWithSignal(exit.asMono(), released.asMono());
                    OutputPipe stdout;
                    OutputPipe stderr;
                    if (StdoutHandoff.isHandoff(state.getStdout())) {
                        // The sleeper still holds the container's pipes (and what was written meanwhile).
                        int[] fds = manager.handoff().openNow(bundle, live.shimPid());
                        stdout = manager.loop().outputUntilEmpty(fds[0], ended);
                        stderr = manager.loop().outputUntilEmpty(fds[1], ended);
                    } else {
                        stdout = stdio.stdout() instanceof Stdio.PipeOutput
                                ? manager.openFifoReader(fifos.stdout(), ended) : null;
                        stderr = stdio.stderr() instanceof Stdio.PipeOutput
                                ? manager.openFifoReader(fifos.stderr(), ended) : null;
                    }
                    IoLoop.InputPipe stdin = stdio.stdin() instanceof Stdio.PipeInput
                            ? manager.loop().input(manager.syscalls().open(fifos.stdin().toString(),
                                    OpenFlags.O_RDWR | OpenFlags.O_NONBLOCK, 0))
                            : null;
                    PooledShim.Lease lease = manager.pool().adopt(bundle.namespace(), socketOf(live), live.ttrpc(),
                            live.client(), live.shimPid(), logDrain);
                    return new V2Shim(manager, bundle, start, lease, spec, exit, released, stdout, stderr, stdin,
                            status == TaskStatus.CREATED ? 0 : Math.max(1, state.getPid()));
                }).subscribeOn(manager.schedulers().syscalls()).doOnError(e -> logDrain.dispose()))
                .map(shim -> {
                    log.info("[{}] reconnected to shim pid {}: {} (pid {})", who, live.shimPid(), status,
                            state.getPid());
                    return new RestoredShim(bundle.namespace(), spec, shim, status, state.getPid());
                });
    }

    /**
     * A pooled daemon's home found by a restore: a live daemon joins the pool again (its log drained), a dead one's
     * socket and home are removed.
     *
     * @return a cold Mono completing when done; a failure is logged and swallowed, so one bad home stops nothing
     */
    Mono<Void> adoptHome(Restorer.Home home) {
        Bundle dir = home.home();
        String who = dir.namespace() + "/" + dir.id();
        Mono<Void> done;
        if (home.live()) {
            done = manager.bundles().openLog(dir)
                    .map(fd -> manager.drainShimLog(fd, who))
                    .onErrorResume(e -> Mono.just(Disposables.single()))
                    .doOnNext(logDrain -> {
                        manager.pool().restored(dir.namespace(), dir, home.socket(), home.ttrpc(), home.client(),
                                home.shimPid(), logDrain);
                        log.info("[{}] reconnected to pooled shim pid {}", who, home.shimPid());
                    })
                    .then();
        } else {
            log.info("[{}] removing the home of a pooled shim that is gone", who);
            done = manager.deadShims().removeSocket(home.socket()).then(manager.bundles().remove(dir));
        }
        return done.onErrorResume(e -> {
            log.warn("[{}] restoring a pooled shim's home failed", who, e);
            return Mono.empty();
        });
    }

    private static Path socketOf(Restorer.Live live) {
        return live.ttrpc().socket();
    }

    /**
     * The init's stdio from what the shim says it was given (State): our FIFO is a pipe (also for an output that
     * was discarded: the two cannot be told apart), so is our {@link StdoutHandoff}, another path an output to that
     * file, nothing none.
     */
    static Stdio stdio(StateResponse state, StdioFifos fifos) {
        return new Stdio(
                state.getStdin().isEmpty() ? Stdio.Input.NULL : Stdio.Input.PIPE,
                output(state.getStdout(), fifos.stdout()),
                output(state.getStderr(), fifos.stderr()));
    }

    private static Stdio.Output output(String given, Path fifo) {
        if (given.isEmpty()) {
            return Stdio.Output.NULL;
        }
        if (given.equals(fifo.toString()) || StdoutHandoff.isHandoff(given)) {
            return Stdio.Output.PIPE;
        }
        String path = given.startsWith("file://") ? given.substring("file://".length()) : given;
        return Stdio.Output.appendTo(Path.of(path));
    }

    static TaskStatus status(StateResponse state) {
        return switch (state.getStatus()) {
            case CREATED -> TaskStatus.CREATED;
            case PAUSED, PAUSING -> TaskStatus.PAUSED;
            case STOPPED -> TaskStatus.STOPPED;
            default -> TaskStatus.RUNNING;
        };
    }
}
