package dev.berth.containers;

import com.sun.management.OperatingSystemMXBean;
import dev.berth.core.ExitStatus;
import dev.berth.core.Stdio;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A warm-JVM loop of container lifecycles through Berth: {@code /bin/true} in busybox, created, started, waited for
 * and deleted, {@code concurrency} at a time, printing the rate and latency percentiles of each round
 * ({@link Latencies#line()}). Two backends, the same loop: Berth's shim v2 runtime ({@link ContainerFixture#open()},
 * result lines named {@code berth}) and, with {@code --containerd}, {@link dev.berth.Berth#containerd} over a
 * containerd daemon ({@link ContainerFixture#containerd}, lines named {@code berth-cd}). Needs root, runc,
 * {@code containerd-shim-runc-v2} and busybox-static.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.berth.containers.ContainerLifecycleDriver [options] [ROUND...]
 *   ROUND          [containerd:]CONCURRENCY:COUNT, e.g. 1:40 containerd:4:80; the prefix runs the round over
 *                  --containerd (default 1:40 4:80, and the same over containerd when --containerd is given)
 *   --containerd SOCKET
 *                  also open Berth.containerd(SOCKET), namespace bench-cd, for the rounds prefixed containerd:
 *   --warmup N     lifecycles run (4 at a time) and discarded before the first round, on each backend (default 40)
 *   --stdio pipe   stdout and stderr as pipes read to the end, as ctr run does (default; the init's are handed
 *                  over by the shim, see StdoutHandoff)
 *   --stdio null   every stream on /dev/null
 *   --serve        after the warm-up, read rounds from stdin (one a line) and answer each with its result line,
 *                  until EOF: containers-side-by-side.sh keeps one warm JVM this way
 * </pre>
 *
 * <p>A round may also be {@code [containerd:]stdout:MIB}: one container running {@code dd if=/dev/zero bs=64k} for
 * MIB MiB with stdout read from {@link dev.berth.core.Process#stdout()} (stderr on /dev/null),
 * timed from create to the end of the delete and printed as {@code berth-stdout bytes=<n> wall=<s> rate=<MiB/s>}
 * ({@code berth-cd-stdout} over containerd); fewer bytes than asked fails the program.
 *
 * <p>After each lifecycle round, the mean time of each phase and the JVM's CPU per lifecycle ({@link Phases}), and
 * that CPU by thread ({@link ThreadCpu}), go to stderr. A failed lifecycle or a bad round ends the program with
 * status 1; the services are closed and their state removed first, in every case.
 */
public final class ContainerLifecycleDriver {
    /** The prefix of a round run over {@code --containerd} rather than the shim v2 runtime. */
    static final String CONTAINERD = "containerd:";
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
        Path containerd = null;
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
                case "--containerd" -> containerd = Path.of(args[++i]);
                default -> rounds.add(args[i]);
            }
        }
        if (rounds.isEmpty() && !serve) {
            rounds = containerd == null ? List.of("1:40", "4:80")
                    : List.of("1:40", CONTAINERD + "1:40", "4:80", CONTAINERD + "4:80");
        }
        List<ContainerFixture> fixtures = new ArrayList<>();
        // SIGINT or SIGTERM (Ctrl-C on the side-by-side script) still closes the services and removes their state.
        Thread onSignal = new Thread(() -> closeAll(fixtures), "close-on-signal");
        Runtime.getRuntime().addShutdownHook(onSignal);
        try {
            Map<String, ContainerLifecycleDriver> drivers = new LinkedHashMap<>();
            fixtures.add(ContainerFixture.open());
            drivers.put("", new ContainerLifecycleDriver(fixtures.get(0), stdio));
            if (containerd != null) {
                fixtures.add(ContainerFixture.containerd(containerd));
                drivers.put(CONTAINERD, new ContainerLifecycleDriver(fixtures.get(1), stdio));
            }
            run(drivers, warmup, rounds, serve);
        } catch (RuntimeException e) {
            e.printStackTrace();
            closeAll(fixtures);
            System.exit(1);
        } finally {
            closeAll(fixtures);
            try {
                Runtime.getRuntime().removeShutdownHook(onSignal);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or will run; close() is idempotent
            }
        }
    }

    /** Closes every fixture, each even when another fails (close() is idempotent: the hook may call it again). */
    private static void closeAll(List<ContainerFixture> fixtures) {
        for (ContainerFixture fixture : List.copyOf(fixtures)) {
            try {
                fixture.close();
            } catch (RuntimeException e) {
                e.printStackTrace();
            }
        }
    }

    private static void run(Map<String, ContainerLifecycleDriver> drivers, int warmup, List<String> rounds,
            boolean serve) throws IOException {
        if (warmup > 0) {
            for (ContainerLifecycleDriver driver : drivers.values()) {
                driver.round(4, warmup);
                System.err.println("warm-up: " + warmup + " lifecycles of " + driver.fixture.name());
            }
        }
        for (String round : rounds) {
            System.out.println(roundLine(drivers, round));
        }
        if (serve) {
            System.out.println("ready");
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.isBlank()) {
                    System.out.println(roundLine(drivers, line.strip()));
                    System.out.flush();
                }
            }
        }
    }

    /** Runs a round on the backend its prefix names ({@value #CONTAINERD} or none: the shim v2 runtime). */
    private static String roundLine(Map<String, ContainerLifecycleDriver> drivers, String round) {
        String backend = round.startsWith(CONTAINERD) ? CONTAINERD : "";
        ContainerLifecycleDriver driver = drivers.get(backend);
        if (driver == null) {
            throw new IllegalArgumentException("round " + round + " needs --containerd SOCKET");
        }
        return driver.roundLine(round.substring(backend.length()));
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
        return String.format(Locale.ROOT, "%s-stdout bytes=%d wall=%.3fs rate=%.1fMiB/s", fixture.name(), bytes,
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
                .flatMap(i -> timed(i, concurrency, nanos), concurrency)
                .blockLast();
        phases.jvmCpu(jvmCpuNanos() - cpu);
        threadCpu = ThreadCpu.perOperation(threads, ThreadCpu.snapshot(), count);
        return new Latencies(fixture.name(), concurrency, System.nanoTime() - start, nanos);
    }

    /** CPU time of this whole JVM (every thread, user and system). */
    private static long jvmCpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Lifecycle {@code i} of a round; its container id names the round's concurrency: {@code lc<pid>-c4-<n>}. */
    private Mono<ExitStatus> timed(int i, int concurrency, long[] nanos) {
        return Mono.defer(() -> {
            long t0 = System.nanoTime();
            String id = prefix + "c" + concurrency + "-" + ids.incrementAndGet();
            return fixture.lifecycle(fixture.spec(id, stdio, "/bin/true"), phases)
                    .doOnNext(status -> {
                        if (!status.isSuccess()) {
                            throw new IllegalStateException("/bin/true ended with " + status);
                        }
                        nanos[i] = System.nanoTime() - t0;
                    });
        });
    }
}
