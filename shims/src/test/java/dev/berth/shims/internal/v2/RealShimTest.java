package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ProcessSpec;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.TaskSpec;
import dev.berth.core.os.Syscalls;
import dev.berth.shims.testing.BusyboxRootfs;
import dev.berth.shims.testing.ContainerTests;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/**
 * Runs the real {@code containerd-shim-runc-v2 start} against a Berth bundle, as root. Nothing listens on the
 * events socket, which the shim only dials when it has an event to send. Every shim whose command line carries this
 * test's private {@code -address} is killed afterwards, whatever happened.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class RealShimTest {
    static final Duration BOUND = Duration.ofSeconds(15);
    static final String NS = "berthit";

    final RuntimeSchedulers schedulers = RuntimeSchedulers.create("real-shim-it");
    final Syscalls sys = Syscalls.linux();
    final List<Integer> fds = new ArrayList<>();

    @TempDir
    Path dir;
    Path state;
    RuntimeBinaries binaries;
    Path shim;

    @BeforeEach
    void requireRootRuncAndShim() throws IOException {
        ContainerTests.requirePrerequisites("the real shim test");
        binaries = RuntimeBinaries.fromEnvironment(schedulers);
        shim = binaries.resolveNow("io.containerd.runc.v2");
        state = dir.resolve("state");
    }

    @AfterEach
    void killStrayShimsAndClose() throws IOException {
        try {
            if (state != null) {
                for (ProcessHandle stray : ContainerTests.shimsOf(ShimStart.privateAddress(state))) {
                    System.err.println("killing stray shim " + stray.pid());
                    stray.destroyForcibly();
                }
                // A SIGKILLed shim leaves its socket in /run/containerd/s (spec 3.3): remove ours.
                Path addressFile = state.resolve(NS).resolve("web").resolve("address");
                if (Files.exists(addressFile)) {
                    Files.deleteIfExists(Path.of(ShimStart.parseAddress(Files.readString(addressFile))));
                }
            }
            fds.forEach(sys::close);
        } finally {
            schedulers.dispose();
        }
    }

    @Test
    void theRealShimStartsOnAConnectableSocketAndLeavesNothingBehind() throws Exception {
        Bundles bundles = new Bundles(state, sys, schedulers);
        // A pooled daemon's home: an empty config.json and the log FIFO (what ShimPool starts a daemon in).
        Bundle bundle = bundles.locateHome(NS, "web");
        BundlesTest.await(bundles.createHome(bundle).thenReturn(bundle));
        // Pitfall 2: a reader on the log FIFO before start, or the daemon never serves.
        fds.add(BundlesTest.await(bundles.openLog(bundle)));
        ShimStart shimStart = new ShimStart(ShimStart.Config.of(shim, state,
                dir.resolve("events.sock").toString(), binaries.shimPath()), schedulers);

        String[] address = new String[1];
        StepVerifier.create(shimStart.start(bundle))
                .consumeNextWith(a -> address[0] = a)
                .expectComplete()
                .verify(BOUND);

        Path socket = Path.of(address[0]);
        assertThat(socket).startsWith(Path.of("/run/containerd/s"));
        assertThat(Files.readString(bundle.address())).isEqualTo("unix://" + address[0]);
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            assertThat(channel.isConnected()).isTrue();
        }
        List<ProcessHandle> daemons = ContainerTests.shimsOf(ShimStart.privateAddress(state));
        assertThat(daemons).as("one daemon carries our private -address").hasSize(1);

        // Spec 3.5: the delete action needs the runtime file a Create writes; without one it fails, exit 1.
        StepVerifier.create(shimStart.delete(bundle))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INTERNAL))
                .verify(BOUND);

        // With no task, SIGTERM is the daemon's clean exit: it removes its socket.
        ProcessHandle daemon = daemons.get(0);
        long sent = System.nanoTime();
        daemon.destroy();
        try {
            daemon.onExit().get(BOUND.toSeconds(), TimeUnit.SECONDS);
            System.err.printf("shim exited %d ms after SIGTERM%n", (System.nanoTime() - sent) / 1_000_000);
        } catch (TimeoutException e) {
            fail("shim " + daemon.pid() + " ignored SIGTERM for " + BOUND);
        }
        assertThat(Files.exists(socket)).as("socket removed on clean exit").isFalse();

        StepVerifier.create(bundles.remove(bundle)).expectComplete().verify(BOUND);
        assertThat(BundlesTest.list(state.resolve(".shims").resolve(NS))).isEmpty();
        assertThat(ContainerTests.shimsOf(ShimStart.privateAddress(state))).isEmpty();
    }
}
