package dev.berth.io;

import dev.berth.Berth;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Stdio;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
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
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.publisher.Mono;

/**
 * 1 GiB from a child's stdout pipe into the JVM: a Berth task running {@code head -c 1073741824 /dev/zero} whose
 * {@code stdout()} is counted with {@code reduce}, against two peers measured in the same run: the same bytes through
 * a plain shell pipe into {@code cat > /dev/null} (no JVM in the data path), and {@link ProcessBuilder} with its
 * {@code InputStream} read into a 64 KiB {@code byte[]}. One operation moves the whole GiB; the score is milliseconds
 * per GiB, so MiB/s = 1,024,000 / score.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(1)
@State(Scope.Benchmark)
public class StdoutThroughputBenchmark {
    static final long BYTES = 1L << 30;
    private static final String HEAD = "head -c " + BYTES + " /dev/zero";
    private static final ProcessSpec HEAD_TO_PIPE = ProcessSpec.builder("head", "-c", Long.toString(BYTES), "/dev/zero")
            .stdio(new Stdio(Stdio.Input.NULL, Stdio.Output.PIPE, Stdio.Output.NULL))
            .build();
    private static final ProcessBuilder.Redirect DEV_NULL = ProcessBuilder.Redirect.from(new File("/dev/null"));
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final AtomicLong ids = new AtomicLong();
    private final ProcessBuilder catPipe = new ProcessBuilder("sh", "-c", HEAD + " | cat > /dev/null")
            .redirectInput(DEV_NULL)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.INHERIT);
    private final ProcessBuilder jdkHead = new ProcessBuilder("head", "-c", Long.toString(BYTES), "/dev/zero")
            .redirectInput(DEV_NULL)
            .redirectError(ProcessBuilder.Redirect.INHERIT);
    private TaskService tasks;

    @Setup(Level.Trial)
    public void setUp() {
        tasks = Berth.embedded();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        tasks.close().block(CLOSE_TIMEOUT);
    }

    /** Bytes counted from {@code task.stdout()}; the task is deleted after its exit. */
    @Benchmark
    public Long berthStdout() {
        return tasks.create(TaskSpec.of("head-" + ids.incrementAndGet(), HEAD_TO_PIPE))
                .flatMap(StdoutThroughputBenchmark::count)
                .block();
    }

    private static Mono<Long> count(Task task) {
        Mono<Long> counted = task.stdout().reduce(0L, (n, chunk) -> n + chunk.remaining());
        return task.start()
                .then(counted)
                .flatMap(n -> task.exit().then(task.delete()).thenReturn(n));
    }

    /** The peer without a JVM in the data path: the wall time of {@code head | cat > /dev/null}; the exit code. */
    @Benchmark
    public int catPipe() throws IOException, InterruptedException {
        return catPipe.start().waitFor();
    }

    /** The JDK peer: bytes read from {@link java.lang.Process#getInputStream()} in a 64 KiB loop. */
    @Benchmark
    public long processBuilderStdout() throws IOException, InterruptedException {
        java.lang.Process p = jdkHead.start();
        long n = 0;
        byte[] buffer = new byte[64 * 1024];
        try (InputStream in = p.getInputStream()) {
            for (int r; (r = in.read(buffer)) >= 0; ) {
                n += r;
            }
        }
        p.waitFor();
        return n;
    }
}
