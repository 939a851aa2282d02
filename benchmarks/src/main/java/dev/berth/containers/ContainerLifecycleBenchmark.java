package dev.berth.containers;

import dev.berth.core.ExitStatus;
import dev.berth.core.Stdio;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A whole container lifecycle through Berth's shim v2 runtime ({@code containerd-shim-runc-v2} + runc): busybox
 * {@code /bin/true} created, started, waited for and deleted, stdout and stderr read through the shim's FIFOs to
 * their end, as {@code ctr run --rm} does. One operation is one container; {@code lifecycleThreads4} runs four at
 * once against one service. Needs root, runc, the shim and busybox-static. The peers ({@code ctr run --rm},
 * {@code runc run}) are measured by {@code benchmarks/containers-side-by-side.sh}, which prints the ratios.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(1)
@State(Scope.Benchmark)
public class ContainerLifecycleBenchmark {
    private final AtomicLong ids = new AtomicLong();
    private final String prefix = "jmh" + ProcessHandle.current().pid() + "-";
    private ContainerFixture fixture;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        fixture = ContainerFixture.open();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        fixture.close();
    }

    @Benchmark
    public ExitStatus lifecycle() {
        return run();
    }

    @Benchmark
    @Threads(4)
    public ExitStatus lifecycleThreads4() {
        return run();
    }

    private ExitStatus run() {
        ExitStatus status = fixture.lifecycle(fixture.spec(prefix + ids.incrementAndGet(), Stdio.DEFAULT,
                "/bin/true"), null).block();
        if (status == null || !status.isSuccess()) {
            throw new IllegalStateException("/bin/true ended with " + status);
        }
        return status;
    }
}
