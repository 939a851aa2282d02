package dev.berth.shims.internal.v2;

import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.TaskSpec;
import dev.berth.core.internal.undo.Undo;
import dev.berth.core.os.Syscalls;
import dev.berth.core.os.Syscalls.OpenFlags;
import dev.berth.events.EventExchange;
import dev.berth.events.EventsSocket;
import dev.berth.io.IoLoop;
import dev.berth.io.OutputPipe;
import dev.berth.shims.Shim;
import dev.berth.shims.RestoredShim;
import dev.berth.shims.ShimManager;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The shim v2 runtime's manager: tasks run under a few {@code containerd-shim-runc-v2} daemons per namespace, each
 * serving many tasks ({@link ShimPool}), all sharing one event loop (stdio FIFOs, log FIFOs, shim exits) and one
 * events socket, bound on the first create.
 */
final class V2ShimManager implements ShimManager {
    private static final Logger log = LoggerFactory.getLogger(V2ShimManager.class);
    static final String RUNTIME = "io.containerd.runc.v2";
    /** How long a shim may take to exit after Shutdown before it is sent SIGKILL. */
    static final Duration SHIM_EXIT_TIMEOUT = Duration.ofSeconds(10);
    /** How long a released task's lifecycle events are still dropped (see {@link #released}). */
    static final Duration RELEASE_DELAY = Duration.ofSeconds(5);

    private final Path state;
    private final RuntimeSchedulers schedulers;
    private final Syscalls sys;
    private final Path eventsPath;
    private final EventExchange exchange;
    private final boolean ownsExchange;
    private final Duration drainTimeout;
    private final IoLoop loop;
    private final Bundles bundles;
    private final RuntimeBinaries binaries;
    private final DeadShimCleanup deadShims;
    /** The init's output without the shim's copy, unless switched off ({@link StdoutHandoff#PROPERTY}). */
    private final StdoutHandoff handoff;
    private final AtomicReference<@Nullable Mono<EventsSocket>> events = new AtomicReference<>();
    /** Held from the events socket's bind until close: one owner of the state at a time. */
    private final AtomicReference<@Nullable StateLock> lock = new AtomicReference<>();
    private final ForwardedEvents forwarded = new ForwardedEvents();
    private final ShimPool pool;
    /** How many shim daemons one namespace may have at most by default. */
    static final int DEFAULT_SHIMS_PER_NAMESPACE = 4;
    /** How long an idle daemon waits for a new task by default before it is shut down. */
    static final Duration DEFAULT_LINGER = Duration.ofSeconds(5);

    private V2ShimManager(Path state, RuntimeSchedulers schedulers, Syscalls sys, Path eventsPath,
            EventExchange exchange, boolean ownsExchange, Duration drainTimeout, IoLoop loop, int shimsPerNamespace,
            Duration shimLinger) {
        this.state = state;
        this.schedulers = schedulers;
        this.sys = sys;
        this.eventsPath = eventsPath;
        this.exchange = exchange;
        this.ownsExchange = ownsExchange;
        this.drainTimeout = drainTimeout;
        this.loop = loop;
        this.bundles = new Bundles(state, sys, schedulers);
        this.binaries = RuntimeBinaries.fromEnvironment(schedulers);
        this.deadShims = new DeadShimCleanup(bundles, schedulers, this::awaitShimExit);
        this.pool = new ShimPool(this, shimsPerNamespace, shimLinger);
        this.handoff = new StdoutHandoff(state, sys, schedulers, StdoutHandoff.enabledByDefault());
    }

    /** A manager with the default shim pool (see {@link #DEFAULT_SHIMS_PER_NAMESPACE}, {@link #DEFAULT_LINGER}). */
    static V2ShimManager start(Path state, RuntimeSchedulers schedulers, Syscalls sys, @Nullable Path eventsSocket,
            @Nullable EventExchange exchange, Duration drainTimeout) {
        return start(state, schedulers, sys, eventsSocket, exchange, drainTimeout, DEFAULT_SHIMS_PER_NAMESPACE,
                DEFAULT_LINGER);
    }

    static V2ShimManager start(Path state, RuntimeSchedulers schedulers, Syscalls sys, @Nullable Path eventsSocket,
            @Nullable EventExchange exchange, Duration drainTimeout, int shimsPerNamespace, Duration shimLinger) {
        Path root = Objects.requireNonNull(state, "state").toAbsolutePath().normalize();
        Path eventsPath = eventsSocket != null ? eventsSocket.toAbsolutePath() : root.resolve(".events.sock");
        boolean owns = exchange == null;
        EventExchange ex = owns ? EventExchange.create(schedulers, Clock.systemUTC()) : exchange;
        return new V2ShimManager(root, schedulers, sys, eventsPath, ex, owns, drainTimeout,
                IoLoop.create("berth-v2-io", sys), shimsPerNamespace, shimLinger);
    }

    @Override
    public String runtime() {
        return RUNTIME;
    }

    /**
     * Creates the task under a pooled shim daemon and its created (not started) init, in the order of spec §7.2 and
     * §8: bundle, stdio FIFOs, a daemon from the pool (started if need be: see {@link ShimPool}), the bundle's
     * {@code address}, stdio readers, Create, stdin writer, Wait. Each step that succeeded is undone, in reverse, if
     * a later one fails or the create is cancelled. An output to a file is created first (see {@link OutputFiles})
     * and handed to the shim instead of its FIFO.
     */
    @Override
    public Mono<Shim> create(String namespace, TaskSpec spec) {
        return Mono.defer(() -> {
            Undo undo = new Undo(namespace + "/" + spec.id(), schedulers.timer());
            V2Create attempt = new V2Create(this, namespace, spec, undo);
            return attempt.run()
                    .onErrorResume(e -> undo.run().then(Mono.error(e)))
                    .doOnCancel(() -> undo.run().subscribe());
        });
    }

    /** Runs the actions of {@code binary} for this manager's state directory and events socket. */
    ShimStart shimStart(java.nio.file.Path binary) {
        return new ShimStart(ShimStart.Config.of(binary, state, eventsPath.toString(), binaries.shimPath()),
                schedulers);
    }

    /** The daemons of this manager. */
    ShimPool pool() {
        return pool;
    }

    RuntimeBinaries binaries() {
        return binaries;
    }

    /** The stdio handoff of inits; it says itself whether a spec takes it. */
    StdoutHandoff handoff() {
        return handoff;
    }

    /** The type URL the shim expects for its options, exactly (spec §6): not Google's {@code type.googleapis.com/}. */
    static final String RUNC_OPTIONS_TYPE_URL = "containerd.runc.v1.Options";
    /** runc's state root under the state directory: a dot-name, which no namespace can take. */
    static final String RUNC_ROOT = ".runc";

    /**
     * The runc options of every task: runc keeps its state under {@code <state>/.runc/<namespace>}, so Berth's
     * containers never share runc's state with a containerd on the same host (whose default root is
     * {@code /run/containerd/runc}) nor with another Berth state directory, and everything of a task lives under the
     * state directory. The shim records them in the bundle ({@code options.json}), where its {@code delete} action
     * finds them again.
     */
    com.google.protobuf.Any runcOptions() {
        return com.google.protobuf.Any.newBuilder()
                .setTypeUrl(RUNC_OPTIONS_TYPE_URL)
                .setValue(dev.berth.shims.internal.v2.proto.runc.Options.newBuilder()
                        .setRoot(runcRoot().toString())
                        .build()
                        .toByteString())
                .build();
    }

    /** Where runc keeps the state of this manager's containers: {@code <state>/.runc}; the shim adds the namespace. */
    Path runcRoot() {
        return state.resolve(RUNC_ROOT);
    }

    /**
     * Drains a shim's {@code log} FIFO (our descriptor {@code fd}) into Berth's log at DEBUG, for as long as the
     * returned Disposable is not disposed (pitfall 2: the shim stalls if nobody reads it).
     */
    Disposable drainShimLog(int fd, String who) {
        OutputPipe pipe = loop.output(fd, Mono.never(), drainTimeout, schedulers.timer());
        return pipe.flux().subscribe(
                b -> log.debug("[{}] shim log: {}", who, StandardCharsets.UTF_8.decode(b).toString().strip()),
                e -> log.warn("[{}] shim log drain failed", who, e));
    }

    /**
     * Opens our read end of a stdout or stderr FIFO ({@code O_NONBLOCK}, so it does not wait for the shim; the loop
     * tells "no writer yet" from EOF), drained on the loop until EOF or {@code exited} plus the drain timeout.
     * Blocking-free but a syscall: call it on {@code syscalls()}.
     */
    OutputPipe openFifoReader(Path fifo, Mono<?> exited) {
        int fd = sys.open(fifo.toString(), OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK, 0);
        return loop.fifoOutput(fd, exited, drainTimeout, schedulers.timer());
    }

    /**
     * Opens our end of an exec's stdin FIFO before Exec. The shim opens its read end only at the exec's Start, so a
     * write-only non-blocking open would fail with ENXIO now: {@code O_RDWR} never does (Linux), and we never read
     * from it. EOF for the exec still needs CloseIO, as for the init (pitfall 18). Call it on {@code syscalls()}.
     */
    IoLoop.InputPipe openExecStdin(Path fifo) {
        int fd = sys.open(fifo.toString(), OpenFlags.O_RDWR | OpenFlags.O_NONBLOCK, 0);
        return loop.input(fd);
    }

    /**
     * runc reports a program it cannot exec only in the message of an UNKNOWN status, e.g. {@code exec:
     * "/bin/x": stat /bin/x: no such file or directory}, or {@code executable file not found in $PATH} for a bare
     * name: that is NOT_FOUND (or PERMISSION_DENIED), as the SPI says.
     */
    static Throwable createError(Throwable e) {
        String message = String.valueOf(e.getMessage());
        if (!Errors.is(e, dev.berth.core.ErrorKind.UNKNOWN) || !message.contains("exec: ")) {
            return e;
        }
        if (message.contains("no such file or directory") || message.contains("executable file not found")) {
            return Errors.of(dev.berth.core.ErrorKind.NOT_FOUND, e, "%s", message);
        }
        if (message.contains("permission denied")) {
            return Errors.of(dev.berth.core.ErrorKind.PERMISSION_DENIED, e, "%s", message);
        }
        return e;
    }

    /**
     * Waits for the shim daemon {@code pid} (not our child, pitfall 23) to be gone, through a pidfd on the loop;
     * after {@link #SHIM_EXIT_TIMEOUT} it is sent SIGKILL and waited for once more.
     */
    Mono<Void> awaitShimExit(int pid, String who) {
        return pidGone(pid)
                .timeout(SHIM_EXIT_TIMEOUT, schedulers.timer())
                .onErrorResume(e -> {
                    log.warn("[{}] shim pid {} still there {} after shutdown: SIGKILL", who, pid, SHIM_EXIT_TIMEOUT);
                    return Mono.fromRunnable(() -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly))
                            .subscribeOn(schedulers.syscalls())
                            .then(pidGone(pid))
                            .timeout(SHIM_EXIT_TIMEOUT, schedulers.timer());
                });
    }

    /** Completes once {@code pid} is gone (a pidfd on the loop); no timeout, no signal. */
    Mono<Void> pidGone(int pid) {
        return Mono.usingWhen(
                Mono.fromCallable(() -> {
                    try {
                        return sys.pidfdOpen(pid);
                    } catch (RuntimeException e) {
                        if (ProcessHandle.of(pid).isPresent()) {
                            throw e;
                        }
                        return -1; // gone already
                    }
                }).subscribeOn(schedulers.syscalls()),
                fd -> fd < 0 ? Mono.<Void>empty() : loop.whenReadable(fd),
                fd -> fd < 0 ? Mono.empty() : Mono.fromRunnable(() -> sys.close(fd)));
    }

    /**
     * Takes the state directory's lock and binds the events socket, once; a failure (another owner, a bad path) is
     * tried again by the next create or restore. The lock comes first: the socket's path is the owner's.
     */
    Mono<EventsSocket> eventsSocket() {
        return Mono.defer(() -> {
            Mono<EventsSocket> bound = events.get();
            if (bound != null) {
                return bound;
            }
            Mono<EventsSocket> attempt = lockState()
                    .then(EventsSocket.bind(eventsPath, exchange, schedulers, forwarded::accept))
                    .doOnError(e -> {
                        events.set(null);
                        releaseLock();
                    })
                    .cache();
            return events.compareAndSet(null, attempt) ? attempt : events.get();
        });
    }

    @Override
    public Mono<Void> close() {
        return Mono.defer(() -> {
            Mono<EventsSocket> bound = events.getAndSet(null);
            Mono<Void> socket = bound == null ? Mono.empty()
                    : bound.flatMap(EventsSocket::close).onErrorResume(e -> Mono.empty());
            // The daemons first: their ends still forward events.
            return pool.close()
                    .then(socket)
                    .then(Mono.fromRunnable(this::releaseLock).subscribeOn(schedulers.syscalls()))
                    .then(ownsExchange ? exchange.close() : Mono.empty())
                    .then(loop.close());
        });
    }

    /** Takes the state directory's lock unless this manager holds it already. On {@code syscalls()}. */
    private Mono<Void> lockState() {
        return Mono.<Void>fromRunnable(() -> {
            synchronized (lock) {
                if (lock.get() == null) {
                    lock.set(StateLock.acquire(state));
                }
            }
        }).subscribeOn(schedulers.syscalls());
    }

    private void releaseLock() {
        StateLock held = lock.getAndSet(null);
        if (held != null) {
            held.close();
        }
    }

    /** The events of the task {@code namespace/id} are published by the task manager from now on. */
    void held(Bundle bundle) {
        forwarded.hold(bundle.namespace(), bundle.id());
    }

    /**
     * The task is gone from this manager (deleted, lost or detached): its events are the shim's again, after
     * {@link #RELEASE_DELAY}, so that a lifecycle event the shim sent just before it went is still dropped.
     */
    void released(Bundle bundle) {
        Runnable release = () -> forwarded.release(bundle.namespace(), bundle.id());
        try {
            schedulers.timer().schedule(release, RELEASE_DELAY.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            release.run(); // shutting down: nothing more will be forwarded anyway
        }
    }

    /**
     * Takes the state directory (its lock and the events socket, so shims that were forwarding to a dead owner
     * reach us), then adopts every bundle found under it (see {@link Restorer} and {@link Adopter}). The shim binary
     * is resolved only if there is something to adopt.
     */
    @Override
    public Flux<RestoredShim> restore() {
        return Flux.defer(() -> {
            Mono<ShimStart> shimStart = binaries.resolve(RUNTIME).map(this::shimStart).cache();
            Adopter adopter = new Adopter(this, shimStart);
            Restorer restorer = new Restorer(state, schedulers, pool);
            // The bundles are held before the socket is bound: an event a shim has been retrying since its owner
            // died (its exit, say) arrives as soon as we listen, and the task manager publishes that one itself.
            // The pooled daemons' homes come first, so that their tasks share their connections.
            return lockState()
                    .then(Mono.fromCallable(restorer::bundles).subscribeOn(schedulers.syscalls()))
                    .doOnNext(found -> found.forEach(this::held))
                    .flatMapMany(found -> eventsSocket()
                            .doOnError(e -> found.forEach(this::released))
                            .then(restorer.homes().concatMap(adopter::adoptHome).then())
                            .thenMany(Flux.fromIterable(found)))
                    .concatMap(restorer::examine)
                    .concatMap(adopter::adopt)
                    .concatWith(pool.settle().then(Mono.empty()));
        });
    }

    Syscalls syscalls() {
        return sys;
    }

    IoLoop loop() {
        return loop;
    }

    Bundles bundles() {
        return bundles;
    }

    /** The cleanup after a dead shim, shared by every task of this manager (and by a restore). */
    DeadShimCleanup deadShims() {
        return deadShims;
    }

    RuntimeSchedulers schedulers() {
        return schedulers;
    }

    Duration drainTimeout() {
        return drainTimeout;
    }
}
