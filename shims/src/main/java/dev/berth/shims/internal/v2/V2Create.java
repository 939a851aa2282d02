package dev.berth.shims.internal.v2;

import dev.berth.core.ExitStatus;
import dev.berth.core.Stdio;
import dev.berth.core.TaskSpec;
import dev.berth.core.internal.undo.Undo;
import dev.berth.core.os.Syscalls.OpenFlags;
import dev.berth.io.IoLoop;
import dev.berth.io.OutputPipe;
import dev.berth.shims.Shim;
import dev.berth.shims.internal.v2.proto.CreateTaskRequest;
import dev.berth.shims.internal.v2.proto.DeleteRequest;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One create of the shim v2 runtime ({@link V2ShimManager#create}): the steps and what they produced so far, each
 * undone through {@code undo} if a later one fails or the create is cancelled.
 */
final class V2Create {
    private static final Logger log = LoggerFactory.getLogger(V2Create.class);

    private final V2ShimManager manager;
    final String namespace;
    final TaskSpec spec;
    final Undo undo;
    final boolean stdinPipe;
    /** The init's output comes through the {@link StdoutHandoff}, not FIFOs (then {@link #fifos} stays null). */
    final @Nullable StdoutHandoff handoff;
    /**
     * Every stream discarded: the shim is given no stdio at all and puts the process on {@code /dev/null} itself
     * (no FIFO, no handoff, nothing of ours to drain; {@link #fifos} stays null).
     */
    final boolean silent;
    @Nullable Bundle bundle;
    @Nullable StdioFifos fifos;
    @Nullable ShimStart shimStart;
    PooledShim.@Nullable Lease lease;
    @Nullable OutputPipe stdout;
    @Nullable OutputPipe stderr;
    IoLoop.@Nullable InputPipe stdin;
    /** Registered before Create, so the stdio readers' drain timeout can follow it. */
    final Sinks.One<ExitStatus> exit = Sinks.one();
    /** Completes when the shim is detached or lost: the readers then drain and close without an exit. */
    final Sinks.Empty<Void> released = Sinks.empty();

    V2Create(V2ShimManager manager, String namespace, TaskSpec spec, Undo undo) {
        this.manager = manager;
        this.namespace = namespace;
        this.spec = spec;
        this.undo = undo;
        this.stdinPipe = spec.process().stdio().stdin() instanceof Stdio.PipeInput;
        Stdio stdio = spec.process().stdio();
        this.silent = stdio.stdin() instanceof Stdio.NullInput && stdio.stdout() instanceof Stdio.NullOutput
                && stdio.stderr() instanceof Stdio.NullOutput;
        this.handoff = !silent && manager.handoff().appliesTo(stdio) ? manager.handoff() : null;
    }

    Mono<Shim> run() {
        return manager.binaries().resolve(V2ShimManager.RUNTIME)
                .flatMap(binary -> OutputFiles.prepare(spec.process().stdio(), manager.schedulers()).map(created -> {
                    undo.push("remove the output files created", () -> OutputFiles.removeCreated(created,
                            manager.schedulers()));
                    return binary;
                }))
                .flatMap(binary -> manager.eventsSocket().thenReturn(binary))
                .flatMap(binary -> manager.bundles().create(namespace, spec).map(b -> {
                    bundle = b;
                    undo.push("remove bundle", () -> manager.bundles().remove(b));
                    shimStart = manager.shimStart(binary);
                    return b;
                }))
                // The FIFOs (or the handoff's script) and a daemon at the same time: neither needs the other.
                .flatMap(b -> Mono.zip(silent ? Mono.just(true)
                                : handoff != null ? handoff.install().thenReturn(true)
                                : manager.bundles().createFifos(b, spec.id(), stdinPipe).doOnNext(f -> fifos = f)
                                        .thenReturn(true),
                        Mono.defer(() -> manager.pool().acquire(namespace, Mono.just(shimStart)))
                                .doOnNext(l -> {
                                    lease = l;
                                    // The daemon is given back last: the task's own undo (Delete) needs it.
                                    undo.push("give the shim back", l::release);
                                })))
                .then(Mono.defer(this::openOutputs))
                .then(Mono.defer(this::createTask))
                .then(Mono.defer(this::openHandoff))
                .then(Mono.defer(this::openStdin))
                .then(Mono.fromSupplier(() -> {
                    V2Shim shim = new V2Shim(manager, bundle, shimStart, lease, spec, exit, released,
                            stdout, stderr, stdin);
                    undo.commit();
                    manager.held(bundle);
                    log.debug("[{}/{}] created under shim pid {}", namespace, spec.id(),
                            lease.shim().shimPid());
                    return shim;
                }));
    }

    /**
     * The bundle's {@code address}, then our read ends of the output FIFOs. Spec §7.2: both read ends open before
     * Create, or the shim's blocking write-open holds Create up.
     */
    Mono<Void> openOutputs() {
        Stdio stdio = spec.process().stdio();
        return Mono.fromRunnable(() -> {
            manager.bundles().writeAddressNow(bundle, lease.shim().socket());
            if (handoff != null || silent) {
                return; // no FIFOs: nothing to read, or the pipes exist only once Create has answered (openHandoff)
            }
            // An output to a file is the shim's to write: no reader, and its FIFO stays unused.
            stdout = OutputFiles.isFile(stdio.stdout()) ? null : openFifoReader(fifos.stdout());
            stderr = OutputFiles.isFile(stdio.stderr()) ? null : openFifoReader(fifos.stderr());
        }).subscribeOn(manager.schedulers().syscalls()).then();
    }

    private OutputPipe openFifoReader(Path fifo) {
        OutputPipe pipe = manager.openFifoReader(fifo,
                Mono.firstWithSignal(exit.asMono(), released.asMono()));
        undo.push("close " + fifo.getFileName(), pipe::close);
        return pipe;
    }

    Mono<Void> createTask() {
        ShimTaskClient client = lease.shim().client();
        CreateTaskRequest.Builder request = CreateTaskRequest.newBuilder()
                .setId(spec.id())
                .setBundle(bundle.path().toString())
                .setTerminal(false)
                .setOptions(manager.runcOptions());
        if (silent) {
            // All three empty: the shim gives the container /dev/null and copies nothing (spec §7.1).
        } else if (handoff != null) {
            String target = handoff.target(bundle);
            request.setStdout(target).setStderr(target);
        } else {
            request.setStdout(OutputFiles.stdoutTarget(spec.process().stdio(), fifos.stdout()))
                    .setStderr(OutputFiles.stderrTarget(spec.process().stdio(), fifos.stderr()));
            if (fifos.stdin() != null) {
                request.setStdin(fifos.stdin().toString());
            }
        }
        // Pitfall 16: a failed Create can leave a runc container behind; Delete, else the delete action.
        undo.push("delete the task", () -> client.delete(DeleteRequest.newBuilder().setId(spec.id()).build())
                .then()
                .onErrorResume(e -> shimStart.delete(bundle).then()));
        return client.create(request.build()).then()
                .onErrorResume(e -> handoff == null ? Mono.error(e)
                        : Mono.fromRunnable(() -> handoff.stopNow(bundle, lease.shim().shimPid()))
                                .subscribeOn(manager.schedulers().syscalls())
                                .then(Mono.error(e)))
                .onErrorMap(V2ShimManager::createError);
    }

    /**
     * With the handoff, our read ends of the init's pipes, taken from the sleeper the shim started; they end at
     * the first empty read after the exit (the shim holds the write ends until Delete). The sleeper itself is
     * the shim's: the "delete the task" undo (Delete closes the process's io) ends it.
     */
    Mono<Void> openHandoff() {
        if (handoff == null) {
            return Mono.empty();
        }
        // Opened and handed to their undo in one step, so that a cancel in between cannot drop them.
        return Mono.fromRunnable(() -> {
            int[] fds = handoff.openNow(bundle, lease.shim().shimPid());
            Mono<Object> ended = Mono.firstWithSignal(exit.asMono(), released.asMono());
            OutputPipe out = manager.loop().outputUntilEmpty(fds[0], ended);
            undo.push("close stdout", out::close);
            stdout = out;
            OutputPipe err = manager.loop().outputUntilEmpty(fds[1], ended);
            undo.push("close stderr", err::close);
            stderr = err;
        }).subscribeOn(manager.schedulers().syscalls()).then();
    }

    Mono<Void> openStdin() {
        if (fifos == null || fifos.stdin() == null) {
            return Mono.empty();
        }
        // O_RDWR, as for an exec's stdin: the shim opens its read end in a goroutine that may not have run
        // when Create answers, and a write-only non-blocking open would then fail with ENXIO (seen under load).
        return Mono.fromRunnable(() -> {
            int fd = manager.syscalls().open(fifos.stdin().toString(), OpenFlags.O_RDWR | OpenFlags.O_NONBLOCK, 0);
            stdin = manager.loop().input(fd);
            IoLoop.InputPipe in = stdin;
            undo.push("close stdin", in::close);
        }).subscribeOn(manager.schedulers().syscalls()).then();
    }
}
