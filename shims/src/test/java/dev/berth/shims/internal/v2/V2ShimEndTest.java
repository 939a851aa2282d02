package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.ProcessSpec;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Signal;
import dev.berth.core.TaskSpec;
import dev.berth.core.internal.ttrpc.TtrpcClient;
import dev.berth.core.internal.ttrpc.TtrpcServer;
import dev.berth.core.os.Syscalls;
import dev.berth.shims.internal.v2.proto.DeleteRequest;
import dev.berth.shims.internal.v2.proto.DeleteResponse;
import dev.berth.shims.internal.v2.proto.StartRequest;
import dev.berth.shims.internal.v2.proto.StartResponse;
import dev.berth.shims.internal.v2.proto.WaitRequest;
import dev.berth.shims.internal.v2.proto.WaitResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * How a {@link V2Shim}'s connection ends, against a fake shim whose server the test closes to play a dead daemon:
 * a drop we did not cause is a loss (cleanup, UNKNOWN exits, {@code lost()}), even during our delete; a detach is
 * not. The bundle never had a Create, so no {@code delete} action runs (the shim binary given does not exist).
 */
@Timeout(30)
class V2ShimEndTest {
    static final Duration WAIT = Duration.ofSeconds(5);

    Path dir;
    final RuntimeSchedulers schedulers = RuntimeSchedulers.create("v2-shim-end-test");
    final FakeShim fake = new FakeShim();
    TtrpcServer server;
    TtrpcClient ttrpc;
    V2ShimManager manager;
    Bundle bundle;
    V2Shim shim;
    final Sinks.One<ExitStatus> exit = Sinks.one();

    @BeforeEach
    void start() throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "berth");
        fake.on("Wait", WaitRequest.parser(), r -> Mono.<WaitResponse>never())
                .on("Start", StartRequest.parser(), r -> Mono.just(StartResponse.newBuilder().setPid(42).build()))
                .on("Delete", DeleteRequest.parser(), r -> Mono.<DeleteResponse>never());
        server = TtrpcServer.bind(dir.resolve("s.sock"), fake.services(), schedulers).block(WAIT);
        ttrpc = TtrpcClient.connect(server.socket(), schedulers.timer()).block(WAIT);
        Path state = dir.resolve("state");
        manager = V2ShimManager.start(state, schedulers, Syscalls.linux(), null, null, Duration.ofSeconds(1));
        bundle = manager.bundles().locate("h1-unit", "web");
        Files.createDirectories(bundle.path());
        Files.writeString(bundle.address(), "unix://" + server.socket());
        ShimStart shimStart = new ShimStart(ShimStart.Config.of(dir.resolve("no-such-shim"), state, "unused",
                "/usr/bin"), schedulers);
        PooledShim.Lease lease = manager.pool().adopt("h1-unit", server.socket(), ttrpc,
                ShimTaskClient.create(ttrpc), 0, Disposables.single());
        shim = new V2Shim(manager, bundle, shimStart, lease, TaskSpec.builder("web", ProcessSpec.of("/bin/true"))
                .build(), exit, Sinks.empty(), null, null, null);
    }

    @AfterEach
    void stop() throws IOException {
        ttrpc.close().block(WAIT);
        server.close().block(WAIT);
        manager.close().block(WAIT);
        schedulers.dispose();
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Plays the daemon's death: its end of the connection goes. */
    void shimDies() {
        server.close().block(WAIT);
    }

    @Test
    void aDropWeDidNotCauseIsALossThatCleansUpAndEndsTheExitUnknown() {
        shim.init().start().block(WAIT);

        shimDies();

        StepVerifier.create(shim.lost()).expectComplete().verify(WAIT);
        StepVerifier.create(shim.init().exit())
                .assertNext(s -> assertThat(s.kind()).isEqualTo(ExitStatus.Kind.UNKNOWN))
                .expectComplete()
                .verify(WAIT);
        assertThat(Files.exists(bundle.path())).as("bundle removed").isFalse();
        assertThat(manager.deadShims().deleteActions()).as("never created: no delete action").isZero();
        StepVerifier.create(shim.delete()).expectComplete().verify(WAIT);
        StepVerifier.create(shim.killAll(Signal.KILL))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
        StepVerifier.create(shim.pids())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
        StepVerifier.create(shim.detach())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
    }

    @Test
    void aLossDuringOurDeleteCompletesTheDeleteOnceCleanedUp() {
        shim.init().start().block(WAIT);

        StepVerifier.create(shim.delete())
                .expectSubscription()
                .then(this::shimDies)
                .expectComplete()
                .verify(WAIT);

        assertThat(shim.lost().toFuture()).isDone();
        assertThat(Files.exists(bundle.path())).isFalse();
        assertThat(exit.asMono().block(WAIT).kind()).isEqualTo(ExitStatus.Kind.UNKNOWN);
    }

    @Test
    void aDetachIsNoLossAndLeavesTheBundle() {
        shim.init().start().block(WAIT);

        StepVerifier.create(shim.detach()).expectComplete().verify(WAIT);
        shimDies();

        assertThat(shim.lost().toFuture()).as("never lost").isNotDone();
        assertThat(exit.asMono().toFuture()).as("no exit").isNotDone();
        assertThat(Files.exists(bundle.path())).as("bundle kept").isTrue();
        StepVerifier.create(shim.delete())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
        StepVerifier.create(shim.detach())
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
        StepVerifier.create(shim.exec("e1", ProcessSpec.of("/bin/true")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION))
                .verify(WAIT);
    }
}
