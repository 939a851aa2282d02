package dev.berth.core.oci;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Cgroup limits ({@code linux.resources} in {@code config.json}). {@code null} components and empty collections are
 * left out of the JSON.
 *
 * @param devices the device cgroup rules, applied in order (the last matching rule wins)
 * @param memory memory limits, or {@code null}
 * @param cpu CPU limits, or {@code null}
 * @param pids the process count limit, or {@code null}
 * @param extensions fields this model does not name (such as {@code blockIO}, {@code hugepageLimits} or
 *     {@code unified}), kept so that a parsed spec is written back unchanged; values are JSON-shaped
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LinuxResources(
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<DeviceRule> devices,
        @Nullable Memory memory,
        @Nullable Cpu cpu,
        @Nullable Pids pids,
        @JsonAnySetter @JsonAnyGetter Map<String, @Nullable Object> extensions) {
    public LinuxResources {
        devices = Values.list(devices);
        extensions = Values.extensions(extensions);
    }

    /**
     * One device cgroup rule. {@code allow} is always written, {@code false} included; a {@code null} number is a
     * wildcard ({@code 136:*}) and stays absent.
     *
     * @param allow whether the rule allows or denies
     * @param type {@code a} (all), {@code c} or {@code b}; {@code null} means all
     * @param major the major number, or {@code null} for any
     * @param minor the minor number, or {@code null} for any
     * @param access some of {@code r}, {@code w} and {@code m}; {@code null} means all
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record DeviceRule(boolean allow, @Nullable String type, @Nullable Long major, @Nullable Long minor,
            @Nullable String access) {
    }

    /**
     * Memory cgroup limits, in bytes; {@code -1} means unlimited.
     *
     * @param limit the memory limit
     * @param reservation the soft limit
     * @param swap the memory plus swap limit
     * @param kernel the kernel memory limit (deprecated)
     * @param kernelTCP the kernel TCP buffer limit
     * @param swappiness the swappiness, 0-100
     * @param disableOOMKiller whether the OOM killer is disabled
     * @param useHierarchy whether hierarchical accounting is enabled
     * @param checkBeforeUpdate whether runc checks the current usage before lowering the limit
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Memory(@Nullable Long limit, @Nullable Long reservation, @Nullable Long swap,
            @Nullable Long kernel, @Nullable Long kernelTCP, @Nullable Long swappiness,
            @Nullable Boolean disableOOMKiller, @Nullable Boolean useHierarchy,
            @Nullable Boolean checkBeforeUpdate) {
    }

    /**
     * CPU cgroup limits.
     *
     * @param shares the relative weight ({@code ctr} uses 1024)
     * @param quota the CFS quota per period, in microseconds
     * @param burst the CFS burst, in microseconds
     * @param period the CFS period, in microseconds
     * @param realtimeRuntime the real-time runtime, in microseconds
     * @param realtimePeriod the real-time period, in microseconds
     * @param cpus the CPUs allowed, e.g. {@code 0-3}
     * @param mems the memory nodes allowed
     * @param idle whether the cgroup uses SCHED_IDLE
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Cpu(@Nullable Long shares, @Nullable Long quota, @Nullable Long burst, @Nullable Long period,
            @Nullable Long realtimeRuntime, @Nullable Long realtimePeriod, @Nullable String cpus,
            @Nullable String mems, @Nullable Long idle) {
        /** Only a relative weight. */
        public static Cpu ofShares(long shares) {
            return new Cpu(shares, null, null, null, null, null, null, null, null);
        }
    }

    /**
     * The pids cgroup limit.
     *
     * @param limit the most processes the container may have; 0 or less means unlimited
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Pids(long limit) {
    }
}
