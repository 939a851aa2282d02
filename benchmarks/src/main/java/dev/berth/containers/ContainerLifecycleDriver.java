package dev.berth.containers;

import dev.berth.core.ExitStatus;
import dev.berth.core.Stdio;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
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
 * After each round, the mean time of each phase ({@link Phases}) goes to stderr. A failed lifecycle ends the program with status 1. The service is closed and its state removed in every case.
 */
public final class ContainerLifecycleDriver {
    private final ContainerFixture fixture;
    private final Stdio stdio;
    private final AtomicLong ids = new AtomicLong();
    private Phases phases = new Phases();
    private final String prefix = "lc" + ProcessHandle.current().pid() + "-";

    private ContainerLifecycleDriver(ContainerFixture fixture, Stdio stdio) {
        this.fixture = fixture;
        this.stdio = stdio;
    }

    public static void main(String[] args) throws IOException {
        int warmup = 40;
        Stdio stdio = Stdio.DEFAULT;
        boolean serve = false;
        java.util.List<String> rounds = new java.util.ArrayList<>();
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
            rounds = java.util.List.of("1:40", "4:80");
        }
        try (ContainerFixture fixture = ContainerFixture.open()) {
            ContainerLifecycleDriver driver = new ContainerLifecycleDriver(fixture, stdio);
            if (warmup > 0) {
                driver.round(4, warmup);
                System.err.println("warm-up: " + warmup + " lifecycles");
            }
            for (String round : rounds) {
                Latencies result = driver.round(round);
                System.err.println(driver.phases.line());
                System.out.println(result.line());
            }
            if (serve) {
                System.out.println("ready");
                System.out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                for (String line; (line = in.readLine()) != null; ) {
                    if (!line.isBlank()) {
                        Latencies result = driver.round(line.strip());
                        System.err.println(driver.phases.line()); // before the result, which the caller waits for
                        System.out.println(result.line());
                        System.out.flush();
                    }
                }
            }
        } catch (RuntimeException e) {
            e.printStackTrace();
            System.exit(1);
        }
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
        long start = System.nanoTime();
        Flux.range(0, count)
                .flatMap(i -> timed(i, nanos), concurrency)
                .blockLast();
        return new Latencies("berth", concurrency, System.nanoTime() - start, nanos);
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
