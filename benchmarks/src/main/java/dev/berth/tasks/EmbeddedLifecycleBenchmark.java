package dev.berth.tasks;

import dev.berth.Berth;
import dev.berth.core.ExitStatus;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Stdio;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import java.io.File;
import java.io.IOException;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.publisher.Mono;

/**
 * A whole task lifecycle (create, start, wait for the exit, delete) of {@code /bin/true} with every stream on
 * /dev/null through {@link Berth#embedded()}, against its JDK peer: {@link ProcessBuilder#start()} then
 * {@code onExit().join()}. One operation is one child process from spawn to reaped exit. The {@code …Threads4}
 * variants run the same operation from four threads at once.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
@State(Scope.Benchmark)
public class EmbeddedLifecycleBenchmark {
    private static final ProcessSpec TRUE = ProcessSpec.builder("/bin/true").stdio(Stdio.NULL).build();
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    /** Task ids must be unique in the namespace while the task exists; shared by all benchmark threads. */
    private final AtomicLong ids = new AtomicLong();
    private final ProcessBuilder jdk = new ProcessBuilder("/bin/true")
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    private TaskService tasks;

    @Setup(Level.Trial)
    public void setUp() {
        tasks = Berth.embedded();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        tasks.close().block(CLOSE_TIMEOUT);
    }

    @Benchmark
    public ExitStatus berthLifecycle() {
        return lifecycle();
    }

    @Benchmark
    public int processBuilderLifecycle() throws IOException {
        return jdkLifecycle();
    }

    @Benchmark
    @Threads(4)
    public ExitStatus berthLifecycleThreads4() {
        return lifecycle();
    }

    @Benchmark
    @Threads(4)
    public int processBuilderLifecycleThreads4() throws IOException {
        return jdkLifecycle();
    }

    private ExitStatus lifecycle() {
        return tasks.create(TaskSpec.of("true-" + ids.incrementAndGet(), TRUE))
                .flatMap(EmbeddedLifecycleBenchmark::run)
                .block();
    }

    /** The exit is hot since create, so taking it before start never misses a fast exit. */
    private static Mono<ExitStatus> run(Task task) {
        Mono<ExitStatus> exit = task.exit();
        return task.start().then(exit).then(task.delete());
    }

    private int jdkLifecycle() throws IOException {
        // ProcessBuilder.start() is thread-safe for a builder nobody modifies.
        return jdk.start().onExit().join().exitValue();
    }
}
