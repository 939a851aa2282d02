package dev.berth.containers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * CPU time of this JVM's threads by name, native ones included (JIT compilers, GC), from
 * {@code /proc/self/task/<tid>/stat} (user + system, in clock ticks of 10 ms). Thread names are grouped with their
 * digits dropped ({@code berth-syscalls-3} counts as {@code berth-syscalls-#}). Linux only.
 */
final class ThreadCpu {
    private static final double MILLIS_PER_TICK = 10.0;

    private ThreadCpu() {
    }

    /** CPU ticks per thread group now; threads that ended since an earlier snapshot are simply missing. */
    static Map<String, Long> snapshot() {
        Map<String, Long> ticks = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    continue; // the thread ended meanwhile
                }
                int open = stat.indexOf('(');
                int close = stat.lastIndexOf(')');
                String name = stat.substring(open + 1, close).replaceAll("\\d+", "#");
                String[] fields = stat.substring(close + 2).split(" ");
                // after the name: state(0) ... utime(11) stime(12)
                long cpu = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
                ticks.merge(name, cpu, Long::sum);
            }
        } catch (IOException e) {
            return Map.of();
        }
        return ticks;
    }

    /**
     * The groups that used CPU between two snapshots, most first, as {@code name=ms/op}, for {@code ops} operations.
     */
    static String perOperation(Map<String, Long> before, Map<String, Long> after, int ops) {
        return after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(8)
                .map(e -> String.format(Locale.ROOT, "%s=%.1f", e.getKey(), e.getValue() * MILLIS_PER_TICK / ops))
                .collect(Collectors.joining(" ", "threads ms/op: ", ""));
    }
}
