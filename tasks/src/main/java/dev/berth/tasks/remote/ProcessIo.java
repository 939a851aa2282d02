package dev.berth.tasks.remote;

import dev.berth.core.Errors;
import dev.berth.core.Stdio;
import dev.berth.core.os.Syscalls.OpenFlags;
import dev.berth.io.IoLoop;
import dev.berth.io.OutputPipe;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The client side of one process's stdio (spec §4): the FIFOs and our ends of them, through the I/O loop (no thread
 * per stream, demand-driven reads). Open order, spec §4.3: the FIFOs, then our stdout and stderr read ends
 * ({@code O_RDONLY|O_NONBLOCK}, which never waits for the shim; the loop tells "no writer yet" from EOF) before
 * Tasks/Create or Tasks/Exec, then for an init our stdin write end after Create (the shim holds a reader by then),
 * for an exec before Exec with {@code O_RDWR} (the shim opens its end only at Start). An output the user discards
 * ({@link Stdio.Output#NULL} next to a pipe) still needs its FIFO (the shim wants both or neither) and is drained.
 */
final class ProcessIo {
    private static final Logger log = LoggerFactory.getLogger(ProcessIo.class);

    private final Daemon daemon;
    private final String who;
    private final @Nullable Fifos fifos;
    private final String stdinUri;
    private final String stdoutUri;
    private final String stderrUri;
    // Set on a syscalls() thread while the process is made, read from any thread after.
    private volatile @Nullable OutputPipe stdout;
    private volatile @Nullable OutputPipe stderr;
    private volatile IoLoop.@Nullable InputPipe stdin;
    private final List<Disposable> drains = new ArrayList<>(2);
    private final boolean stdoutPipe;
    private final boolean stderrPipe;

    private ProcessIo(Daemon daemon, String who, @Nullable Fifos fifos, String stdinUri, String stdoutUri,
            String stderrUri, boolean stdoutPipe, boolean stderrPipe) {
        this.daemon = daemon;
        this.who = who;
        this.fifos = fifos;
        this.stdinUri = stdinUri;
        this.stdoutUri = stdoutUri;
        this.stderrUri = stderrUri;
        this.stdoutPipe = stdoutPipe;
        this.stderrPipe = stderrPipe;
    }

    /** No stdio at all: what a task Berth did not create gets. */
    static ProcessIo detached(Daemon daemon, String who) {
        return new ProcessIo(daemon, who, null, "", "", "", false, false);
    }

    /**
     * Makes the FIFOs of {@code stdio} and opens our output ends, on {@code syscalls()}; for an exec also the stdin
     * end. On failure what was made is closed and removed before the error is emitted.
     *
     * @param exited when the process exited, for the outputs' drain timeout
     */
    static Mono<ProcessIo> open(Daemon daemon, String who, String id, Stdio stdio, Mono<?> exited, boolean exec) {
        return Mono.fromCallable(() -> {
            boolean in = stdio.stdin() instanceof Stdio.PipeInput;
            boolean outPipe = stdio.stdout() instanceof Stdio.PipeOutput;
            boolean errPipe = stdio.stderr() instanceof Stdio.PipeOutput;
            if (stdio.stdout() instanceof Stdio.FileOutput || stdio.stderr() instanceof Stdio.FileOutput) {
                if (stdio.stdout() instanceof Stdio.FileOutput out && stdio.stderr().equals(out) && !in) {
                    String uri = "file://" + out.file();
                    return new ProcessIo(daemon, who, null, "", uri, uri, false, false);
                }
                throw Errors.notImplemented("%s: output to a file must be one file for both stdout and stderr, "
                        + "without a stdin pipe", who);
            }
            if (!in && !outPipe && !errPipe) {
                return new ProcessIo(daemon, who, null, "", "", "", false, false); // null IO
            }
            Fifos fifos = Fifos.create(daemon.sys, daemon.fifoRoot, id, in);
            ProcessIo io = new ProcessIo(daemon, who, fifos, in ? fifos.stdin().toString() : "",
                    fifos.stdout().toString(), fifos.stderr().toString(), outPipe, errPipe);
            try {
                io.stdout = io.reader(fifos.stdout().toString(), exited);
                io.stderr = io.reader(fifos.stderr().toString(), exited);
                if (!outPipe) {
                    io.drains.add(io.stdout.flux().subscribe(b -> { }, e -> { }));
                }
                if (!errPipe) {
                    io.drains.add(io.stderr.flux().subscribe(b -> { }, e -> { }));
                }
                if (in && exec) {
                    int fd = daemon.sys.open(fifos.stdin().toString(), OpenFlags.O_RDWR | OpenFlags.O_NONBLOCK, 0);
                    io.stdin = daemon.loop.input(fd);
                }
            } catch (RuntimeException e) {
                io.releaseNow(e);
                throw e;
            }
            return io;
        }).subscribeOn(daemon.schedulers.syscalls());
    }

    private OutputPipe reader(String fifo, Mono<?> exited) {
        int fd = daemon.sys.open(fifo, OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK, 0);
        return daemon.loop.fifoOutput(fd, exited, daemon.drainTimeout, daemon.schedulers.timer());
    }

    /** An init's stdin write end, opened after Tasks/Create: the shim holds a read end since, so it cannot block. */
    Mono<Void> openInitStdin() {
        if (fifos == null || fifos.stdin() == null || stdin != null) {
            return Mono.empty();
        }
        return Mono.<Void>fromRunnable(() -> {
            int fd = daemon.sys.open(fifos.stdin().toString(), OpenFlags.O_WRONLY | OpenFlags.O_NONBLOCK, 0);
            stdin = daemon.loop.input(fd);
        }).subscribeOn(daemon.schedulers.syscalls());
    }

    String stdinUri() {
        return stdinUri;
    }

    String stdoutUri() {
        return stdoutUri;
    }

    String stderrUri() {
        return stderrUri;
    }

    boolean hasStdin() {
        return stdin != null;
    }

    Flux<ByteBuffer> stdout() {
        OutputPipe p = stdout;
        return p == null || !stdoutPipe ? Flux.error(Errors.failedPrecondition("%s: stdout is not a pipe", who))
                : p.flux();
    }

    Flux<ByteBuffer> stderr() {
        OutputPipe p = stderr;
        return p == null || !stderrPipe ? Flux.error(Errors.failedPrecondition("%s: stderr is not a pipe", who))
                : p.flux();
    }

    /** Writes {@code data} into stdin, then closes our end (the caller sends CloseIO). */
    Mono<Void> writeStdin(Publisher<ByteBuffer> data) {
        IoLoop.InputPipe p = stdin;
        return p == null ? Mono.error(Errors.failedPrecondition("%s: stdin is not a pipe", who)) : p.write(data);
    }

    /** Closes our stdin end; false if there is none. */
    Mono<Boolean> closeStdin() {
        IoLoop.InputPipe p = stdin;
        return p == null ? Mono.just(false) : p.close().thenReturn(true);
    }

    /**
     * Releases our ends (an output somebody subscribed to drains on until its end) and removes the FIFOs. Cleanup:
     * failures are logged, never emitted.
     */
    Mono<Void> release() {
        return Mono.defer(() -> {
            List<Mono<Void>> closes = new ArrayList<>(3);
            if (stdin != null) {
                closes.add(stdin.close());
            }
            if (stdout != null) {
                closes.add(stdout.close());
            }
            if (stderr != null) {
                closes.add(stderr.close());
            }
            return Mono.when(closes)
                    .then(Mono.<Void>fromRunnable(() -> {
                        if (fifos != null) {
                            fifos.remove();
                        }
                    }).subscribeOn(daemon.schedulers.syscalls()))
                    .onErrorResume(e -> {
                        log.warn("[{}] releasing stdio failed", who, e);
                        return Mono.empty();
                    });
        });
    }

    private void releaseNow(RuntimeException cause) {
        for (Disposable d : drains) {
            d.dispose();
        }
        for (var pipe : new dev.berth.core.AsyncCloseable[] {stdin, stdout, stderr}) {
            if (pipe != null) {
                pipe.close().subscribe(v -> { }, cause::addSuppressed);
            }
        }
        try {
            if (fifos != null) {
                fifos.remove();
            }
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
    }
}
