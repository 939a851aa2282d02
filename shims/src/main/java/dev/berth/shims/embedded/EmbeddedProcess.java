package dev.berth.shims.embedded;

import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.Signal;
import dev.berth.core.os.SpawnRequest;
import dev.berth.core.os.WaitStatus;
import dev.berth.io.IoLoop;
import dev.berth.io.OutputPipe;
import dev.berth.shims.ShimProcess;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One host process: its stdio descriptors exist from construction, the process from {@link #start()}. The exit
 * sink exists before the spawn, and a pidfd registered right after it fires even for a process that has already
 * exited, so no exit is missed. The exit is read without reaping ({@code WNOWAIT}): the zombie keeps the pid and
 * the process group id reserved, so signals to the group can never reach a stranger that reused the number. The
 * process is reaped by {@link #delete()}.
 */
final class EmbeddedProcess implements ShimProcess {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedProcess.class);
    private static final int NEW = 0;
    private static final int STARTING = 1;
    private static final int STARTED = 2;
    private static final int DELETED = 3;

    private final String id;
    private final Command command;
    private final EmbeddedShim shim;
    private final EmbeddedShimManager runtime;
    private final StdioFds fds;
    private final @Nullable OutputPipe stdout;
    private final @Nullable OutputPipe stderr;
    private final IoLoop.@Nullable InputPipe stdin;
    private final Sinks.One<ExitStatus> exit = Sinks.one();
    /** Completes once the process exists (or will never exist, when deleted first): gates closing stdin. */
    private final Sinks.Empty<Void> spawned = Sinks.empty();
    private final AtomicInteger state = new AtomicInteger(NEW);
    private volatile int pid;
    private volatile @Nullable ExitStatus exitStatus;
    private volatile boolean stdinCloseRequested;
    private volatile @Nullable Disposable exitWatch;

    EmbeddedProcess(String id, Command command, EmbeddedShim shim, EmbeddedShimManager runtime, StdioFds fds) {
        this.id = id;
        this.command = command;
        this.shim = shim;
        this.runtime = runtime;
        this.fds = fds;
        IoLoop loop = runtime.loop();
        Mono<ExitStatus> exited = exit.asMono();
        this.stdout = fds.parentOut >= 0 ? loop.output(fds.parentOut, exited, runtime.drainTimeout(),
                runtime.schedulers().timer()) : null;
        this.stderr = fds.parentErr >= 0 ? loop.output(fds.parentErr, exited, runtime.drainTimeout(),
                runtime.schedulers().timer()) : null;
        this.stdin = fds.parentIn >= 0 ? loop.input(fds.parentIn) : null;
    }

    @Override
    public String id() {
        return id;
    }

    int pid() {
        return pid;
    }

    boolean started() {
        return pid != 0;
    }

    @Override
    public Mono<Integer> start() {
        return Mono.defer(() -> {
            if (!state.compareAndSet(NEW, STARTING)) {
                return Mono.error(Errors.failedPrecondition("process %s was already started or deleted", id));
            }
            return Mono.fromCallable(this::spawn)
                    .subscribeOn(runtime.schedulers().syscalls())
                    .doOnError(e -> state.compareAndSet(STARTING, NEW));
        });
    }

    /** Runs on the syscalls scheduler. */
    private int spawn() {
        int group = shim.processGroupFor(this);
        int p = runtime.syscalls().spawn(new SpawnRequest(command.program(), command.argv(), command.envp(),
                command.cwd(), fds.childIn, fds.childOut, fds.childErr, group));
        fds.closeChildSide(runtime.syscalls());
        int pidfd;
        try {
            pidfd = runtime.syscalls().pidfdOpen(p);
        } catch (RuntimeException e) {
            // Without a pidfd the exit cannot be observed: end the child rather than leave it unwatched.
            killAndReap(p);
            throw Errors.wrap(e, "watch process %s (pid %d)", id, p);
        }
        pid = p;
        state.set(STARTED);
        log.debug("[{}] process {} started, pid={}", shim.name(), id, p);
        watchExit(pidfd);
        spawned.tryEmitEmpty();
        if (stdinCloseRequested) {
            closeStdinNow();
        }
        return p;
    }

    /** On the syscalls scheduler, where waiting is allowed: SIGKILL, then reap within a bounded wait. */
    private void killAndReap(int p) {
        runtime.syscalls().kill(p, Signal.KILL.number());
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(2);
        while (runtime.syscalls().waitNoHang(p) < 0 && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
    }

    private void watchExit(int pidfd) {
        exitWatch = runtime.loop().whenReadable(pidfd).subscribe(null,
                e -> log.warn("[{}] lost the exit watch of process {} (pid {})", shim.name(), id, pid, e),
                () -> onExitReadable(pidfd));
    }

    /** On the loop thread: the pidfd is readable, so the process is a zombie now. */
    private void onExitReadable(int pidfd) {
        int raw = runtime.syscalls().peekExit(pid);
        if (raw < 0) {
            watchExit(pidfd);
            return;
        }
        runtime.syscalls().close(pidfd);
        ExitStatus status = WaitStatus.decode(raw, runtime.clock().instant());
        log.debug("[{}] process {} (pid {}) {}", shim.name(), id, pid, status);
        shim.onExit(this, status);
    }

    /** Reports the exit; the shim decides when (an init's exit waits for its execs' exits). */
    void emitExit(ExitStatus status) {
        exitStatus = status;
        Sinks.EmitResult result = exit.tryEmitValue(status);
        if (result.isFailure()) {
            log.warn("[{}] exit of process {} not emitted: {}", shim.name(), id, result);
        }
    }

    /** Whether the process was started and its exit has not been reported yet. */
    boolean running() {
        return pid != 0 && exitStatus == null;
    }

    @Override
    public Mono<ExitStatus> exit() {
        return exit.asMono();
    }

    @Override
    public Mono<Void> kill(Signal signal) {
        return Mono.<Void>fromRunnable(() -> {
            int p = pid;
            if (p == 0) {
                throw Errors.failedPrecondition("process %s has not started", id);
            }
            runtime.syscalls().kill(p, signal.number());
        }).subscribeOn(runtime.schedulers().syscalls());
    }

    @Override
    public Flux<ByteBuffer> stdout() {
        return stdout != null ? stdout.flux() : notAPipe("stdout");
    }

    @Override
    public Flux<ByteBuffer> stderr() {
        return stderr != null ? stderr.flux() : notAPipe("stderr");
    }

    private Flux<ByteBuffer> notAPipe(String stream) {
        return Flux.error(Errors.failedPrecondition("%s of process %s is not a pipe", stream, id));
    }

    @Override
    public Mono<Void> writeStdin(Publisher<ByteBuffer> data) {
        IoLoop.InputPipe in = stdin;
        if (in == null) {
            return Mono.error(Errors.failedPrecondition("stdin of process %s is not a pipe", id));
        }
        // Buffers may go into the pipe before the start; the end of input waits until the process exists.
        return in.write(Flux.from(data).concatWith(spawned.asMono().then(Mono.empty())));
    }

    @Override
    public Mono<Void> closeStdin() {
        return Mono.fromRunnable(() -> {
            if (stdin == null) {
                return;
            }
            stdinCloseRequested = true;
            if (state.get() >= STARTED) {
                closeStdinNow();
            }
        });
    }

    private void closeStdinNow() {
        IoLoop.InputPipe in = stdin;
        if (in != null) {
            in.close().subscribe(); // completes synchronously: it only hands the close to the loop
        }
    }

    @Override
    public Mono<Void> delete() {
        return Mono.<Void>fromRunnable(this::deleteNow).subscribeOn(runtime.schedulers().syscalls());
    }

    private void deleteNow() {
        int s = state.get();
        if (s == DELETED) {
            return;
        }
        if (s == STARTING || (s == STARTED && exitStatus == null)) {
            throw Errors.failedPrecondition("process %s is running", id);
        }
        if (!state.compareAndSet(s, DELETED)) {
            throw Errors.failedPrecondition("process %s changed state during delete", id);
        }
        if (s == STARTED) {
            runtime.syscalls().waitNoHang(pid); // reaps the zombie
        } else {
            fds.closeChildSide(runtime.syscalls());
            exit.tryEmitEmpty();
        }
        Disposable watch = exitWatch;
        if (watch != null) {
            watch.dispose();
        }
        spawned.tryEmitEmpty();
        closeQuietly();
        shim.forget(this);
    }

    /** Closes the parent's ends that nobody consumes; streams being read drain on their own. */
    private void closeQuietly() {
        if (stdout != null) {
            stdout.close().subscribe();
        }
        if (stderr != null) {
            stderr.close().subscribe();
        }
        closeStdinNow();
    }

    /** Releases a process that was never handed out (a create or exec that failed or was cancelled). */
    void discard() {
        if (state.compareAndSet(NEW, DELETED)) {
            fds.closeChildSide(runtime.syscalls());
            exit.tryEmitEmpty();
            spawned.tryEmitEmpty();
            closeQuietly();
        }
    }
}
