package dev.berth.io;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.os.Pipe;
import dev.berth.core.os.Syscalls;
import dev.berth.core.os.Syscalls.OpenFlags;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.io.FileOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

@EnabledOnOs(OS.LINUX)
class IoLoopTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final Syscalls sys = Syscalls.linux();
    private final IoLoop loop = IoLoop.create("io-test", sys);
    private final Scheduler timer = Schedulers.newSingle("io-test-timer");

    @AfterEach
    void close() {
        loop.close().block(WAIT);
        timer.dispose();
    }

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String string(ByteBuffer b) {
        return StandardCharsets.UTF_8.decode(b).toString();
    }

    @Test
    void whatIsWrittenIntoAPipeIsReadBackUntilEndOfFile() {
        Pipe p = sys.pipe();
        OutputPipe out = loop.output(p.readFd(), Mono.never(), Duration.ofSeconds(5), timer);
        IoLoop.InputPipe in = loop.input(p.writeFd());
        Mono<String> read = out.flux().map(IoLoopTest::string).reduce(String::concat);
        String got = Mono.zip(read, in.write(Flux.just(bytes("hello "), bytes("pipe"))).thenReturn(true))
                .map(t -> t.getT1()).block(WAIT);
        assertThat(got).isEqualTo("hello pipe");
    }

    @Test
    void aSecondSubscriptionAndASubscriptionAfterCloseFailWithFailedPrecondition() {
        Pipe p = sys.pipe();
        OutputPipe out = loop.output(p.readFd(), Mono.never(), Duration.ofSeconds(5), timer);
        out.close().block(WAIT);
        StepVerifier.create(out.flux())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
        // the read end is closed: writing now breaks the pipe
        IoLoop.InputPipe in = loop.input(p.writeFd());
        StepVerifier.create(in.write(Flux.just(bytes("x"))))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
    }

    @Test
    void aWriterCanWriteOnceAndCloseIsIdempotent() {
        Pipe p = sys.pipe();
        OutputPipe out = loop.output(p.readFd(), Mono.never(), Duration.ofSeconds(5), timer);
        IoLoop.InputPipe in = loop.input(p.writeFd());
        in.close().block(WAIT);
        in.close().block(WAIT);
        StepVerifier.create(in.write(Flux.just(bytes("late"))))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
        StepVerifier.create(out.flux()).expectComplete().verify(WAIT);
    }

    @Test
    void aFailingPublisherFailsTheWriteAndClosesThePipe() {
        Pipe p = sys.pipe();
        OutputPipe out = loop.output(p.readFd(), Mono.never(), Duration.ofSeconds(5), timer);
        IoLoop.InputPipe in = loop.input(p.writeFd());
        IllegalStateException boom = new IllegalStateException("boom");
        StepVerifier.create(in.write(Flux.just(bytes("part")).concatWith(Mono.error(boom))))
                .expectErrorMatches(e -> e == boom)
                .verify(WAIT);
        StepVerifier.create(out.flux().map(IoLoopTest::string)).expectNext("part").expectComplete().verify(WAIT);
    }

    @Test
    void cancellingAWriteClosesThePipe() {
        Pipe p = sys.pipe();
        OutputPipe out = loop.output(p.readFd(), Mono.never(), Duration.ofSeconds(5), timer);
        IoLoop.InputPipe in = loop.input(p.writeFd());
        Sinks.Many<ByteBuffer> source = Sinks.many().unicast().onBackpressureBuffer();
        StepVerifier.create(in.write(source.asFlux()))
                .then(() -> source.tryEmitNext(bytes("a")))
                .thenCancel()
                .verify(WAIT);
        StepVerifier.create(out.flux().map(IoLoopTest::string).reduce(String::concat).defaultIfEmpty(""))
                .expectNextMatches(s -> s.equals("a") || s.isEmpty())
                .expectComplete()
                .verify(WAIT);
    }

    @Test
    void anOpenPipeAfterTheExitEndsWithDeadlineExceeded() {
        Pipe p = sys.pipe();
        OutputPipe out = loop.output(p.readFd(), Mono.empty(), Duration.ofMillis(200), timer);
        try {
            StepVerifier.create(out.flux())
                    .expectErrorMatches(e -> Errors.is(e, ErrorKind.DEADLINE_EXCEEDED))
                    .verify(WAIT);
        } finally {
            sys.close(p.writeFd());
        }
    }

    @Test
    void readinessIsReportedOnceTheDescriptorIsReadable() {
        Pipe p = sys.pipe();
        IoLoop.InputPipe in = loop.input(p.writeFd());
        StepVerifier.create(loop.whenReadable(p.readFd()))
                .then(() -> in.write(Flux.just(bytes("!"))).subscribe())
                .expectComplete()
                .verify(WAIT);
        sys.close(p.readFd());
    }

    @Test
    void aFifoReaderOpenedBeforeItsWriterWaitsForTheWriterInsteadOfEndingEmpty(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("out");
        sys.mkfifo(fifo.toString(), 0600);
        int plainFd = sys.open(fifo.toString(), OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK, 0);
        // Without FIFO mode the 0 of read() before any writer looks like the end of file.
        StepVerifier.create(loop.output(plainFd, Mono.never(), WAIT, timer).flux()).expectComplete().verify(WAIT);

        int fd = sys.open(fifo.toString(), OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK, 0);
        OutputPipe out = loop.fifoOutput(fd, Mono.never(), WAIT, timer);
        StepVerifier.create(out.flux().map(IoLoopTest::string).reduce(String::concat))
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(300))
                .then(() -> {
                    try (FileOutputStream writer = new FileOutputStream(fifo.toFile())) {
                        writer.write("late writer".getBytes(StandardCharsets.UTF_8));
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })
                .expectNext("late writer")
                .expectComplete()
                .verify(WAIT);
        assertThat(Files.exists(fifo)).isTrue();
    }

    @Test
    void untilEmptyEndsAtTheFirstEmptyReadAfterTheExitThoughTheWriteEndStaysOpen() {
        Pipe p = sys.pipe();
        Sinks.Empty<Void> exited = Sinks.empty();
        OutputPipe out = loop.outputUntilEmpty(p.readFd(), exited.asMono());
        IoLoop.InputPipe in = loop.input(p.writeFd());
        // Our write end stays open all along, as the shim keeps its copy of a container's stdout.
        Sinks.Empty<Void> hold = Sinks.empty();
        in.write(Flux.just(bytes("before exit")).concatWith(hold.asMono().then(Mono.empty()))).subscribe();
        try {
            StepVerifier.create(out.flux().map(IoLoopTest::string))
                    .expectNext("before exit")
                    .expectNoEvent(Duration.ofMillis(300)) // no exit yet: an empty pipe is not the end
                    .then(exited::tryEmitEmpty)
                    .expectComplete()
                    .verify(WAIT);
        } finally {
            hold.tryEmitEmpty();
        }
    }

    @Test
    void untilEmptyGivesASlowSubscriberEveryByteWrittenBeforeTheExit() {
        Pipe p = sys.pipe();
        byte[] data = new byte[48 * 1024];
        java.util.Arrays.fill(data, (byte) 'x');
        IoLoop.InputPipe in = loop.input(p.writeFd());
        Sinks.Empty<Void> hold = Sinks.empty();
        in.write(Flux.just(ByteBuffer.wrap(data)).concatWith(hold.asMono().then(Mono.empty()))).subscribe();
        // Exited before anybody reads: the data is still all there, and nothing ends without demand.
        OutputPipe out = loop.outputUntilEmpty(p.readFd(), Mono.empty());
        try {
            StepVerifier.create(out.flux().map(ByteBuffer::remaining).reduce(Integer::sum), 0)
                    .expectSubscription()
                    .expectNoEvent(Duration.ofMillis(200))
                    .thenRequest(1)
                    .expectNext(data.length)
                    .expectComplete()
                    .verify(WAIT);
        } finally {
            hold.tryEmitEmpty();
        }
    }

    @Test
    void untilEmptyReadsOnlyOnDemandSoTheWriterBlocks() {
        Pipe p = sys.pipe();
        Sinks.Empty<Void> exited = Sinks.empty();
        OutputPipe out = loop.outputUntilEmpty(p.readFd(), exited.asMono());
        IoLoop.InputPipe in = loop.input(p.writeFd());
        // 1 MiB cannot fit in the pipe: the write completes only if the reader keeps asking, and then closes it.
        Flux<ByteBuffer> mib = Flux.range(0, 16).map(i -> ByteBuffer.wrap(new byte[64 * 1024]));
        Mono<Void> write = in.write(mib).cache();
        write.subscribe(v -> { }, e -> { });
        StepVerifier.create(out.flux(), 1)
                .expectNextCount(1)
                .expectNoEvent(Duration.ofMillis(300))
                .then(() -> assertThat(write.toFuture()).isNotDone())
                .thenRequest(Long.MAX_VALUE)
                .thenConsumeWhile(b -> true) // until the write closes the pipe: end of file
                .expectComplete()
                .verify(WAIT);
        StepVerifier.create(write).expectComplete().verify(WAIT);
    }
}
