package dev.berth.containers;

import com.sun.management.OperatingSystemMXBean;
import dev.berth.core.ExitStatus;
import dev.berth.core.Stdio;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A warm-JVM loop of container lifecycles through Berth's shim v2 runtime: {@code /bin/true} in busybox, created,
 * started, waited for and deleted, {@code concurrency} at a time, printing the rate and latency percentiles of each
 * round ({@link Latencies#line()}). Needs root, runc, {@code containerd-shim-runc-v2} and busybox-static.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.berth.containers.ContainerLifecycleDriver [options] [ROUND...]
 *   ROUND          CONCURRENCY:COUNT, e.g. 1:40 4:80 (default 1:40 4:80)
 *   --warmup N     lifecycles run (4 at a time) and discarded before the first round (default 40)
 *   --stdio pipe   stdout and stderr through the shim's FIFOs, read to the end as ctr run does (default)
 *   --stdio null   every stream on /dev/null
 *   --serve        after the warm-up, read rounds from stdin (one CONCURRENCY:COUNT a line) and answer each with
 *                  its result line, until EOF: containers-side-by-side.sh keeps one warm JVM this way
 * </pre>
 *
 * <p>A round may also be {@code stdout:MIB}: one container running {@code dd if=/dev/zero bs=64k} for MIB MiB with
 * stdout through the shim's FIFO into {@link dev.berth.core.Process#stdout()} (stderr on /dev/null), timed from
 * create to the end of the delete and printed as
 * {@code berth-stdout bytes=<n> wall=<s> rate=<MiB/s>}; fewer bytes than asked fails the program.
 *
 * <p>After each lifecycle round, the mean time of each phase and the JVM's CPU per lifecycle ({@link Phases}), and
 * that CPU by thread ({@link ThreadCpu}), go to stderr. A failed lifecycle or a bad round ends the program with status 1; the service is closed and its state
 * removed first, in every case.
 */
public final class ContainerLifecycleDriver {
    private final ContainerFixture fixture;
    private final Stdio stdio;
    private final AtomicLong ids = new AtomicLong();
    private final String prefix = "lc" + ProcessHandle.current().pid() + "-";
    /** The last lifecycle round's phases; only the main thread replaces it. */
    private Phases phases = new Phases();
    /** The last lifecycle round's CPU by thread group, per lifecycle. */
    private String threadCpu = "";

    private ContainerLifecycleDriver(ContainerFixture fixture, Stdio stdio) {
        this.fixture = fixture;
        this.stdio = stdio;
    }

    public static void main(String[] args) throws IOException {
        int warmup = 40;
        Stdio stdio = Stdio.DEFAULT;
        boolean serve = false;
        List<String> rounds = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--stdio" -> stdio = switch (args[++i]) {
                    case "pipe" -> Stdio.DEFAULT;
                    case "null" -> Stdio.NULL;
                    default -> throw new IllegalArgumentException("--stdio pipe|null, not " + args[i]);
                };
                case "--serve" -> serve = true;
                default -> rounds.add(args[i]);
            }
        }
        if (rounds.isEmpty() && !serve) {
            rounds = List.of("1:40", "4:80");
        }
        try (ContainerFixture fixture = ContainerFixture.open()) {
            // SIGINT or SIGTERM (Ctrl-C on the side-by-side script) still closes the service and removes its state.
            Thread onSignal = new Thread(fixture::close, "close-on-signal");
            Runtime.getRuntime().addShutdownHook(onSignal);
            try {
                run(fixture, stdio, warmup, rounds, serve);
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(onSignal);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running or will run; close() is idempotent
                }
            }
        } catch (RuntimeException e) {
            e.printStackTrace();
            System.exit(1);
        }
    }

    private static void run(ContainerFixture fixture, Stdio stdio, int warmup, List<String> rounds, boolean serve)
            throws IOException {
        ContainerLifecycleDriver driver = new ContainerLifecycleDriver(fixture, stdio);
        if (warmup > 0) {
            driver.round(4, warmup);
            System.err.println("warm-up: " + warmup + " lifecycles");
        }
        for (String round : rounds) {
            System.out.println(driver.roundLine(round));
        }
        if (serve) {
            System.out.println("ready");
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.isBlank()) {
                    System.out.println(driver.roundLine(line.strip()));
                    System.out.flush();
                }
            }
        }
    }

    private String roundLine(String round) {
        if (round.startsWith("stdout:")) {
            return stdout(Integer.parseInt(round.substring("stdout:".length())));
        }
        Latencies result = round(round);
        System.err.println(phases.line()); // before the result, which a serving caller waits for
        System.err.println(threadCpu);
        return result.line();
    }

    /** One container writing {@code mib} MiB to its stdout, read to the end; the throughput line. */
    String stdout(int mib) {
        long expected = mib * 1024L * 1024L;
        long start = System.nanoTime();
        Long bytes = fixture.countStdout(fixture.spec(prefix + ids.incrementAndGet(),
                new Stdio(Stdio.Input.NULL, Stdio.Output.PIPE, Stdio.Output.NULL),
                "/bin/dd", "if=/dev/zero", "bs=65536", "count=" + (mib * 16))).block();
        long wall = System.nanoTime() - start;
        if (bytes == null || bytes != expected) {
            throw new IllegalStateException("read " + bytes + " bytes of stdout, expected " + expected);
        }
        return String.format(Locale.ROOT, "berth-stdout bytes=%d wall=%.3fs rate=%.1fMiB/s", bytes,
                wall / 1e9, bytes / 1048576.0 / (wall / 1e9));
    }

    private Latencies round(String round) {
        String[] parts = round.split(":");
        if (parts.length != 2) {
            throw new IllegalArgumentException("a round is CONCURRENCY:COUNT, not " + round);
        }
        return round(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
    }

    /** {@code count} lifecycles, at most {@code concurrency} at a time; fails on the first failed lifecycle. */
    Latencies round(int concurrency, int count) {
        long[] nanos = new long[count];
        phases = new Phases();
        long cpu = jvmCpuNanos();
        Map<String, Long> threads = ThreadCpu.snapshot();
        long start = System.nanoTime();
        Flux.range(0, count)
                .flatMap(i -> timed(i, nanos), concurrency)
                .blockLast();
        phases.jvmCpu(jvmCpuNanos() - cpu);
        threadCpu = ThreadCpu.perOperation(threads, ThreadCpu.snapshot(), count);
        return new Latencies("berth", concurrency, System.nanoTime() - start, nanos);
    }

    /** CPU time of this whole JVM (every thread, user and system). */
    private static long jvmCpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private Mono<ExitStatus> timed(int i, long[] nanos) {
        return Mono.defer(() -> {
            long t0 = System.nanoTime();
            return fixture.lifecycle(fixture.spec(prefix + ids.incrementAndGet(), stdio, "/bin/true"), phases)
                    .doOnNext(status -> {
                        if (!status.isSuccess()) {
                            throw new IllegalStateException("/bin/true ended with " + status);
                        }
                        nanos[i] = System.nanoTime() - t0;
                    });
        });
    }
}
