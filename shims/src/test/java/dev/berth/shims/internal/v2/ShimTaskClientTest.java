package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.internal.ttrpc.TtrpcClient;
import dev.berth.core.internal.ttrpc.TtrpcServer;
import dev.berth.events.proto.containerd.types.Mount;
import dev.berth.shims.internal.v2.proto.CreateTaskRequest;
import dev.berth.shims.internal.v2.proto.CreateTaskResponse;
import dev.berth.shims.internal.v2.proto.DeleteRequest;
import dev.berth.shims.internal.v2.proto.DeleteResponse;
import dev.berth.shims.internal.v2.proto.ExecProcessRequest;
import dev.berth.shims.internal.v2.proto.KillRequest;
import dev.berth.shims.internal.v2.proto.ShutdownRequest;
import dev.berth.shims.internal.v2.proto.StartRequest;
import dev.berth.shims.internal.v2.proto.StartResponse;
import dev.berth.shims.internal.v2.proto.StateRequest;
import dev.berth.shims.internal.v2.proto.StateResponse;
import dev.berth.shims.internal.v2.proto.UpdateTaskRequest;
import dev.berth.shims.internal.v2.proto.WaitRequest;
import dev.berth.shims.internal.v2.proto.WaitResponse;
import dev.berth.shims.internal.v2.proto.types.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

@Timeout(30)
class ShimTaskClientTest {
    static final Duration WAIT = Duration.ofSeconds(5);
    static final Timestamp GO_ZERO = Timestamp.newBuilder().setSeconds(Timestamps.GO_ZERO_SECONDS).build();
    static final Timestamp EXITED = Timestamp.newBuilder().setSeconds(1_700_000_000L).build();
    static final Any PROCESS_SPEC = Any.newBuilder()
            .setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Process")
            .setValue(ByteString.copyFromUtf8("{\"args\":[\"true\"],\"cwd\":\"/\"}"))
            .build();

    // A short directory under /tmp: a Unix socket path may not exceed 107 bytes.
    Path dir;
    final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    final RuntimeSchedulers schedulers = RuntimeSchedulers.create("shim-test");
    final FakeShim fake = new FakeShim();
    TtrpcServer server;
    TtrpcClient ttrpc;
    ShimTaskClient shim;

    @BeforeEach
    void start() throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "berth");
        server = TtrpcServer.bind(dir.resolve("s.sock"), fake.services(), schedulers).block(WAIT);
        // Calls time out on virtual time, so the timeout tests need no waiting.
        ttrpc = TtrpcClient.connect(server.socket(), time).block(WAIT);
        shim = ShimTaskClient.create(ttrpc);
    }

    @AfterEach
    void stop() throws IOException {
        ttrpc.close().block(WAIT);
        server.close().block(WAIT);
        schedulers.dispose();
        time.dispose();
        Files.deleteIfExists(dir);
    }

    @Test
    void createStartWaitKillDeleteRoundTripThroughTheShim() {
        List<Object> seen = new CopyOnWriteArrayList<>();
        Sinks.One<WaitResponse> exit = Sinks.one();
        fake.on("Create", CreateTaskRequest.parser(), r -> {
                    seen.add(r);
                    return Mono.just(CreateTaskResponse.newBuilder().setPid(4242).build());
                })
                .on("Start", StartRequest.parser(), r -> Mono.just(StartResponse.newBuilder().setPid(4242).build()))
                .on("Kill", KillRequest.parser(), r -> {
                    seen.add(r);
                    exit.tryEmitValue(WaitResponse.newBuilder().setExitStatus(137).setExitedAt(EXITED).build());
                    return Mono.just(Empty.getDefaultInstance());
                })
                .on("Wait", WaitRequest.parser(), r -> exit.asMono())
                .on("Delete", DeleteRequest.parser(), r -> Mono.just(DeleteResponse.newBuilder()
                        .setPid(4242).setExitStatus(137).setExitedAt(EXITED).build()));
        CreateTaskRequest create = CreateTaskRequest.newBuilder()
                .setId("web").setBundle("/run/berth/bundles/web")
                .addRootfs(Mount.newBuilder().setType("bind").setSource("/srv/rootfs").addOptions("rbind"))
                .setStdout("/run/berth/web/stdout").setStderr("/run/berth/web/stderr")
                .build();

        StepVerifier.create(shim.create(create)).assertNext(r -> assertThat(r.getPid()).isEqualTo(4242))
                .expectComplete().verify(WAIT);
        assertThat(seen).containsExactly(create);
        StepVerifier.create(shim.start(StartRequest.newBuilder().setId("web").build()))
                .assertNext(r -> assertThat(r.getPid()).isEqualTo(4242)).expectComplete().verify(WAIT);
        Mono<WaitResponse> waited = shim.wait(WaitRequest.newBuilder().setId("web").build());
        Mono<Void> kill = shim.kill(KillRequest.newBuilder().setId("web").setSignal(9).build());
        StepVerifier.create(Mono.zip(waited, kill.then(Mono.just(true))))
                .assertNext(t -> {
                    assertThat(t.getT1().getExitStatus()).isEqualTo(137);
                    assertThat(Timestamps.toInstant(t.getT1().getExitedAt())).isPresent();
                })
                .expectComplete().verify(WAIT);
        StepVerifier.create(shim.delete(DeleteRequest.newBuilder().setId("web").build()))
                .assertNext(r -> {
                    assertThat(r.getExitStatus()).isEqualTo(137);
                    assertThat(r.getPid()).isEqualTo(4242);
                })
                .expectComplete().verify(WAIT);
        assertThat(seen).hasSize(2);
    }

    @Test
    void aWaitSentBeforeStartCompletesWithTheExitThatFollowsStart() {
        Sinks.Empty<Void> waitArrived = Sinks.empty();
        Sinks.One<WaitResponse> exit = Sinks.one();
        fake.on("Wait", WaitRequest.parser(), r -> {
                    waitArrived.tryEmitEmpty();
                    return exit.asMono();
                })
                .on("Start", StartRequest.parser(), r -> Mono.just(StartResponse.newBuilder().setPid(77).build()));
        Mono<WaitResponse> waited = shim.wait(WaitRequest.newBuilder().setId("job").build());
        // Only once the shim holds the Wait: Start, then the process exits.
        Mono<StartResponse> started = waitArrived.asMono()
                .then(shim.start(StartRequest.newBuilder().setId("job").build()))
                .doOnNext(r -> exit.tryEmitValue(WaitResponse.newBuilder().setExitedAt(EXITED).build()));

        StepVerifier.create(Mono.zip(waited, started))
                .assertNext(t -> {
                    assertThat(t.getT2().getPid()).isEqualTo(77);
                    assertThat(t.getT1().getExitStatus()).isZero();
                })
                .expectComplete().verify(WAIT);
    }

    @Test
    void waitHasNoTimeout() {
        Sinks.One<WaitResponse> exit = Sinks.one();
        Sinks.Empty<Void> waitArrived = Sinks.empty();
        fake.on("Wait", WaitRequest.parser(), r -> {
            waitArrived.tryEmitEmpty();
            return exit.asMono();
        });
        StepVerifier.create(shim.wait(WaitRequest.newBuilder().setId("long").build()))
                .expectSubscription()
                .then(() -> StepVerifier.create(waitArrived.asMono()).expectComplete().verify(WAIT))
                .then(() -> time.advanceTimeBy(Duration.ofDays(1)))
                .then(() -> exit.tryEmitValue(WaitResponse.newBuilder().setExitStatus(3).setExitedAt(EXITED).build()))
                .assertNext(r -> assertThat(r.getExitStatus()).isEqualTo(3))
                .expectComplete().verify(WAIT);
    }

    @Test
    void anUnansweredCallFailsWithDeadlineExceededAfterTheDefaultTimeout() {
        fake.on("State", StateRequest.parser(), r -> Mono.never());
        StepVerifier.create(shim.state(StateRequest.newBuilder().setId("web").build()))
                .expectSubscription()
                .then(() -> time.advanceTimeBy(ShimTaskClient.DEFAULT_TIMEOUT))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.DEADLINE_EXCEEDED))
                .verify(WAIT);
    }

    @Test
    void createOutlastsTheDefaultTimeoutAndStopsAtTheCreateTimeout() {
        fake.on("Create", CreateTaskRequest.parser(), r -> Mono.never());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        StepVerifier.create(shim.create(CreateTaskRequest.newBuilder().setId("slow").setBundle("/b/slow").build())
                        .doOnError(failure::set))
                .expectSubscription()
                .then(() -> time.advanceTimeBy(ShimTaskClient.DEFAULT_TIMEOUT.multipliedBy(2)))
                .then(() -> assertThat(failure.get()).isNull())
                .then(() -> time.advanceTimeBy(ShimTaskClient.CREATE_TIMEOUT))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.DEADLINE_EXCEEDED))
                .verify(WAIT);
    }

    @Test
    void theShimsNotFoundStaysNotFound() {
        fake.on("Delete", DeleteRequest.parser(), r -> Mono.error(Errors.notFound("container not created")));
        StepVerifier.create(shim.delete(DeleteRequest.newBuilder().setId("gone").build()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
    }

    @Test
    void theShimsFailedPreconditionStaysFailedPrecondition() {
        fake.on("Delete", DeleteRequest.parser(),
                r -> Mono.error(Errors.failedPrecondition("cannot delete a running process")));
        StepVerifier.create(shim.delete(DeleteRequest.newBuilder().setId("busy").build()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
    }

    @Test
    void execWithoutSpecIsRefusedWithoutReachingTheShim() {
        fake.on("Exec", ExecProcessRequest.parser(), r -> Mono.just(Empty.getDefaultInstance()));
        StepVerifier.create(shim.exec(ExecProcessRequest.newBuilder().setId("web").setExecId("sh").build()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(WAIT);
        assertThat(fake.calls("Exec")).isZero();
    }

    @Test
    void execWithSpecReachesTheShim() {
        AtomicReference<ExecProcessRequest> received = new AtomicReference<>();
        fake.on("Exec", ExecProcessRequest.parser(), r -> {
            received.set(r);
            return Mono.just(Empty.getDefaultInstance());
        });
        ExecProcessRequest exec = ExecProcessRequest.newBuilder().setId("web").setExecId("sh").setSpec(PROCESS_SPEC)
                .build();
        StepVerifier.create(shim.exec(exec)).expectComplete().verify(WAIT);
        assertThat(received.get()).isEqualTo(exec);
    }

    @Test
    void updateWithoutResourcesIsRefusedWithoutReachingTheShim() {
        fake.on("Update", UpdateTaskRequest.parser(), r -> Mono.just(Empty.getDefaultInstance()));
        StepVerifier.create(shim.update(UpdateTaskRequest.newBuilder().setId("web").putAnnotations("a", "b").build()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(WAIT);
        assertThat(fake.calls("Update")).isZero();
    }

    @Test
    void anEmptyTaskIdIsRefusedWithoutReachingTheShim() {
        fake.on("Start", StartRequest.parser(), r -> Mono.just(StartResponse.getDefaultInstance()));
        StepVerifier.create(shim.start(StartRequest.getDefaultInstance()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(WAIT);
        StepVerifier.create(shim.kill(KillRequest.newBuilder().setSignal(9).build()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(WAIT);
        assertThat(fake.calls("Start")).isZero();
        assertThat(fake.calls("Kill")).isZero();
    }

    @Test
    void nothingIsSentBeforeSubscription() {
        fake.on("Kill", KillRequest.parser(), r -> Mono.just(Empty.getDefaultInstance()));
        Mono<Void> kill = shim.kill(KillRequest.newBuilder().setId("web").setSignal(15).build());
        assertThat(fake.calls("Kill")).isZero();
        StepVerifier.create(kill.then(kill)).expectComplete().verify(WAIT);
        assertThat(fake.calls("Kill")).isEqualTo(2);
    }

    @Test
    void cancellingACallStopsTheWait() {
        Sinks.Empty<Void> killArrived = Sinks.empty();
        fake.on("Kill", KillRequest.parser(), r -> {
            killArrived.tryEmitEmpty();
            return Mono.never();
        });
        StepVerifier.create(shim.kill(KillRequest.newBuilder().setId("web").setSignal(15).build()))
                .expectSubscription()
                .then(() -> StepVerifier.create(killArrived.asMono()).expectComplete().verify(WAIT))
                .thenCancel()
                .verify(WAIT);
        assertThat(fake.calls("Kill")).isEqualTo(1);
    }

    @Test
    void shutdownAnsweredWithAnEmptyReplySucceeds() {
        fake.on("Shutdown", ShutdownRequest.parser(), r -> Mono.empty());
        StepVerifier.create(shim.shutdown(ShutdownRequest.newBuilder().setId("web").build()))
                .expectComplete().verify(WAIT);
    }

    @Test
    void shutdownAnsweredByClosingTheConnectionSucceeds() {
        // The real shim may exit before its reply goes out: the connection just ends.
        fake.on("Shutdown", ShutdownRequest.parser(), r -> server.close().then(Mono.never()));
        StepVerifier.create(shim.shutdown(ShutdownRequest.newBuilder().setId("web").build()))
                .expectComplete().verify(WAIT);
        StepVerifier.create(ttrpc.onClose()).expectComplete().verify(WAIT);
    }

    @Test
    void shutdownRefusedByTheShimStillFails() {
        fake.on("Shutdown", ShutdownRequest.parser(),
                r -> Mono.error(Errors.failedPrecondition("shim has tasks left")));
        StepVerifier.create(shim.shutdown(ShutdownRequest.newBuilder().setId("web").build()))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
    }

    @Test
    void aRunningProcessReportsTheZeroExitTimeWhichDecodesAsUnset() {
        fake.on("State", StateRequest.parser(), r -> Mono.just(StateResponse.newBuilder()
                .setId(r.getId()).setPid(4242).setStatus(Status.RUNNING).setExitedAt(GO_ZERO).build()));
        StepVerifier.create(shim.state(StateRequest.newBuilder().setId("web").build()))
                .assertNext(state -> {
                    assertThat(state.getStatus()).isEqualTo(Status.RUNNING);
                    assertThat(state.hasExitedAt()).isTrue();
                    assertThat(Timestamps.toInstant(state.getExitedAt())).isEmpty();
                })
                .expectComplete().verify(WAIT);
    }
}
