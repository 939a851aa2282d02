package dev.berth.tasks;

import dev.berth.Berth;
import dev.berth.core.ExitStatus;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.core.Stdio;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Collectors;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Not a JMH benchmark: starts {@value #DEFAULT_TASKS} {@code sleep 30} tasks at once through {@link Berth#embedded()}
 * and counts JVM threads, to show that a running task costs no thread (exits are pidfds on one epoll loop). Every
 * stream is /dev/null, so a running task holds one descriptor (its pidfd). Exits 1 when the running tasks added more
 * than {@value #MAX_THREAD_DELTA} threads to the service's idle count, 2 when something else failed.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.berth.tasks.ConcurrentSleepersProbe [tasks]}
 */
public final class ConcurrentSleepersProbe {
    static final int DEFAULT_TASKS = 1000;
    static final int MAX_THREAD_DELTA = 16;
    private static final ProcessSpec SLEEP = ProcessSpec.builder("sleep", "30").stdio(Stdio.NULL).build();
    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    private ConcurrentSleepersProbe() {
    }

    public static void main(String[] args) {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : DEFAULT_TASKS;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        int jvmOnly = threads.getThreadCount();
        long t0 = System.nanoTime();
        TaskService service = Berth.embedded();
        try {
            int idle = threads.getThreadCount();
            Map<String, Long> idlePools = threadsByPool(threads);
            threads.resetPeakThreadCount();

            // One task first: starts whatever the runtime starts lazily (event loop, a syscall worker).
            List<Task> first = startAll(service, 0, 1);
            int oneRunning = threads.getThreadCount();

            long t1 = System.nanoTime();
            List<Task> rest = startAll(service, 1, count - 1);
            long t2 = System.nanoTime();
            int allRunning = threads.getThreadCount();
            int peak = threads.getPeakThreadCount();
            int descriptors = openDescriptors();
            Map<String, Long> pools = threadsByPool(threads);

            List<Task> all = new ArrayList<>(first);
            all.addAll(rest);
            long t3 = System.nanoTime();
            List<ExitStatus> exits = Flux.fromIterable(all)
                    .flatMap(ConcurrentSleepersProbe::killAndDelete, count)
                    .collectList()
                    .block(TIMEOUT);
            long t4 = System.nanoTime();
            long killed = exits.stream().filter(e -> e.kind() == ExitStatus.Kind.SIGNALED && e.value() == 9).count();

            service.close().block(TIMEOUT);
            long t5 = System.nanoTime();
            int delta = allRunning - idle;

            System.out.printf("threads: %d JVM only, %d service idle, %d with 1 task, %d with %d tasks, peak %d%n",
                    jvmOnly, idle, oneRunning, allRunning, count, peak);
            System.out.printf("threads by pool, idle service: %s%n", idlePools);
            System.out.printf("threads by pool with %d tasks running: %s%n", count, pools);
            System.out.printf("open descriptors with %d tasks running: %d%n", count, descriptors);
            System.out.printf("started %d in %d ms (first task %d ms after service creation); killed+deleted %d "
                            + "(%d by SIGKILL) in %d ms; closed in %d ms%n",
                    count, ms(t2 - t1), ms(t1 - t0), exits.size(), killed, ms(t4 - t3), ms(t5 - t4));
            boolean ok = delta <= MAX_THREAD_DELTA && exits.size() == count;
            System.out.printf("SUMMARY tasks=%d threadDelta=%d (vs idle service; %d vs 1 running task; "
                            + "%d vs JVM before Berth.embedded()) peak=%d limit=%d -> %s%n",
                    count, delta, allRunning - oneRunning, allRunning - jvmOnly, peak, MAX_THREAD_DELTA,
                    ok ? "PASS" : "FAIL");
            System.exit(ok ? 0 : 1);
        } catch (RuntimeException e) {
            e.printStackTrace();
            service.close().onErrorResume(x -> Mono.empty()).block(TIMEOUT);
            System.exit(2);
        }
    }

    /** Creates and starts {@code n} tasks concurrently; returns once every one of them runs. */
    private static List<Task> startAll(TaskService service, int from, int n) {
        return Flux.range(from, n)
                .flatMap(i -> service.create(TaskSpec.of("sleeper-" + i, SLEEP))
                        .flatMap(task -> task.start().thenReturn(task)), Math.max(1, n))
                .collectList()
                .block(TIMEOUT);
    }

    private static Mono<ExitStatus> killAndDelete(Task task) {
        Mono<ExitStatus> exit = task.exit();
        return task.kill(Signal.KILL).then(exit).then(task.delete());
    }

    private static int openDescriptors() {
        String[] fds = new File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    /** Live threads grouped by name with trailing numbers dropped, e.g. {@code berth-syscalls-=16}. */
    private static Map<String, Long> threadsByPool(ThreadMXBean threads) {
        return Arrays.stream(threads.getThreadInfo(threads.getAllThreadIds()))
                .filter(Objects::nonNull)
                .map(ThreadInfo::getThreadName)
                .collect(Collectors.groupingBy(n -> n.replaceAll("\\d+$", "#"), TreeMap::new, Collectors.counting()));
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }
}
