package dev.berth.core;

import com.google.protobuf.Any;
import java.time.Instant;
import java.util.Objects;

/**
 * One sample of a task's cgroup statistics, as the runtime reports it, not decoded: {@code data}'s type URL names
 * the message, {@code io.containerd.cgroups.v1.Metrics} on a cgroup v1 host and {@code io.containerd.cgroups.v2.Metrics}
 * on a cgroup v2 one (containerd's cgroups protos: pids, cpu, memory, blkio/io, ...).
 *
 * @param timestamp when the sample was taken
 * @param data the statistics message, type URL and serialized bytes
 */
public record TaskMetrics(Instant timestamp, Any data) {
    public TaskMetrics {
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(data, "data");
    }
}
