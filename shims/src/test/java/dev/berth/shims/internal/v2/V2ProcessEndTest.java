package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Signal;
import dev.berth.core.Stdio;
import dev.berth.core.internal.ttrpc.TtrpcClient;
import dev.berth.core.internal.ttrpc.TtrpcServer;
import dev.berth.shims.internal.v2.proto.DeleteRequest;
import dev.berth.shims.internal.v2.proto.DeleteResponse;
import dev.berth.shims.internal.v2.proto.KillRequest;
import dev.berth.shims.internal.v2.proto.StartRequest;
import dev.berth.shims.internal.v2.proto.StartResponse;
import dev.berth.shims.internal.v2.proto.WaitRequest;
import dev.berth.shims.internal.v2.proto.WaitResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * How a v2 process's exit ends when the connection to its shim ends: the Wait's UNAVAILABLE decides nothing, and the
 * owner settles it (after its own Shutdown), loses it (the shim died) or detaches it. Against a fake shim.
 */
@Timeout(30)
class V2ProcessEndTest {
    static final Duration WAIT = Duration.ofSeconds(5);
    static final Instant AT = Instant.ofEpochSecond(1_700_000_000L);

    Path dir;
    final RuntimeSchedulers schedulers = RuntimeSchedulers.create("v2-process-end-test");
    final FakeShim fake = new FakeShim();
    final Sinks.One<WaitResponse> waitReply = Sinks.one();
    TtrpcServer server;
    TtrpcClient ttrpc;
    ShimTaskClient client;

    @BeforeEach
    void start() throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "berth");
        fake.on("Wait", WaitRequest.parser(), r -> waitReply.asMono())
                .on("Start", StartRequest.parser(), r -> Mono.just(StartResponse.newBuilder().setPid(42).build()))
                .on("Kill", KillRequest.parser(), r -> Mono.just(Empty.getDefaultInstance()))
                .on("Delete", DeleteRequest.parser(), r -> Mono.just(DeleteResponse.getDefaultInstance()));
        server = TtrpcServer.bind(dir.resolve("s.sock"), fake.services(), schedulers).block(WAIT);
        ttrpc = TtrpcClient.connect(server.socket(), schedulers.timer()).block(WAIT);
        client = ShimTaskClient.create(ttrpc);
    }

    @AfterEach
    void stop() throws IOException {
        ttrpc.close().block(WAIT);
        server.close().block(WAIT);
        schedulers.dispose();
        Files.deleteIfExists(dir.resolve("s.sock"));
        Files.deleteIfExists(dir);
    }

    V2Process init(Sinks.One<ExitStatus> exit) {
        return new V2Process("ns/web", "web", client, schedulers, exit, Stdio.DEFAULT, null, null, null);
    }

    /** Drops the connection; by the time this returns, the pending Wait has failed with UNAVAILABLE. */
    void dropConnection() {
        ttrpc.close().block(WAIT);
    }

    @Test
    void aWaitEndedByTheConnectionDecidesNothingAndTheLossGivesUnknown() {
        Sinks.One<ExitStatus> exit = Sinks.one();
        V2Process process = init(exit);
        process.watchExit();
        process.start().block(WAIT);

        dropConnection();

        assertThat(exit.asMono().toFuture().isDone()).as("no exit from the dropped Wait").isFalse();
        process.lost(AT);
        StepVerifier.create(process.exit())
                .expectNext(ExitStatus.unknown(AT))
                .expectComplete()
                .verify(WAIT);
        StepVerifier.create(process.kill(Signal.KILL))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
        StepVerifier.create(process.start())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
    }

    @Test
    void anExitTheWaitGaveSurvivesTheLoss() {
        Sinks.One<ExitStatus> exit = Sinks.one();
        V2Process process = init(exit);
        process.watchExit();
        process.start().block(WAIT);
        waitReply.tryEmitValue(WaitResponse.newBuilder().setExitStatus(3)
                .setExitedAt(Timestamp.newBuilder().setSeconds(1_600_000_000L)).build());
        ExitStatus real = process.exit().block(WAIT);

        dropConnection();
        process.lost(AT);

        assertThat(real.code()).hasValue(3);
        StepVerifier.create(process.exit()).expectNext(real).expectComplete().verify(WAIT);
    }

    @Test
    void settlingAfterOurShutdownGivesUnknownIfStartedAndEmptyIfNot() {
        Sinks.One<ExitStatus> started = Sinks.one();
        V2Process running = init(started);
        running.watchExit();
        running.start().block(WAIT);
        Sinks.One<ExitStatus> created = Sinks.one();
        V2Process neverStarted = init(created);
        neverStarted.watchExit();

        dropConnection();
        running.settle(AT);
        neverStarted.settle(AT);

        StepVerifier.create(running.exit()).expectNext(ExitStatus.unknown(AT)).expectComplete().verify(WAIT);
        StepVerifier.create(neverStarted.exit()).expectComplete().verify(WAIT);
    }

    @Test
    void afterDetachNoExitCompletesAndCommandsAreRefused() {
        Sinks.One<ExitStatus> exit = Sinks.one();
        V2Process process = init(exit);
        process.watchExit();
        process.start().block(WAIT);

        process.detach();
        waitReply.tryEmitValue(WaitResponse.newBuilder().setExitStatus(0).build());
        dropConnection();

        assertThat(exit.asMono().toFuture().isDone()).as("no exit after detach").isFalse();
        StepVerifier.create(process.kill(Signal.KILL))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
    }

    @Test
    void anExecOfALostShimIsDeletedWithoutAskingTheShim() {
        Sinks.One<ExitStatus> exit = Sinks.one();
        AtomicInteger afterDelete = new AtomicInteger();
        V2Process exec = new V2Process("ns/web", "web", "e1",
                () -> Mono.fromRunnable(afterDelete::incrementAndGet), client, schedulers, exit, Stdio.DEFAULT,
                null, null, null);
        exec.watchExit();
        dropConnection();
        exec.lost(AT);

        StepVerifier.create(exec.delete()).expectComplete().verify(WAIT);

        assertThat(fake.calls("Delete")).isZero();
        assertThat(afterDelete).hasValue(1);
        StepVerifier.create(exec.exit()).expectNext(ExitStatus.unknown(AT)).expectComplete().verify(WAIT);
    }

    @Test
    void outputToAFileIsNotAPipe() {
        Stdio stdio = new Stdio(Stdio.Input.NULL, Stdio.Output.appendTo(dir.resolve("out.log")), Stdio.Output.NULL);
        V2Process process = new V2Process("ns/web", "web", client, schedulers, Sinks.one(), stdio, null, null, null);

        StepVerifier.create(process.stdout())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
        StepVerifier.create(process.stderr()).expectComplete().verify(WAIT);
    }
}
