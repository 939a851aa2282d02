package dev.berth.core;

import java.nio.file.Path;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a task is: its id, the runtime that runs it, its init process and, for containers, the root filesystem.
 *
 * @param id the task id, unique in its namespace ({@link Identifiers} rules)
 * @param runtime the runtime name, e.g. {@code io.containerd.runc.v2}; empty means the service's default
 * @param process the init process
 * @param rootfs the container's root filesystem directory; {@code null} for a host process
 */
public record TaskSpec(String id, String runtime, ProcessSpec process, @Nullable Path rootfs) {
    public TaskSpec {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(runtime, "runtime");
        Objects.requireNonNull(process, "process");
    }

    /** A host process task with the default runtime and stdio. */
    public static TaskSpec process(String id, String... args) {
        return new TaskSpec(id, "", ProcessSpec.of(args), null);
    }

    /** A task with the default runtime running {@code process}. */
    public static TaskSpec of(String id, ProcessSpec process) {
        return new TaskSpec(id, "", process, null);
    }

    /** A builder for a task running {@code process}. */
    public static Builder builder(String id, ProcessSpec process) {
        return new Builder(id, process);
    }

    /** A builder holding this spec's values. */
    public Builder toBuilder() {
        return new Builder(id, process).runtime(runtime).rootfs(rootfs);
    }

    /**
     * Checks the id and the process spec.
     *
     * @throws BerthException INVALID_ARGUMENT naming the first problem
     */
    public TaskSpec validate() {
        Identifiers.validate("task id", id);
        process.validate();
        if (runtime.indexOf('/') >= 0) {
            throw Errors.invalidArgument("runtime name \"%s\" must not contain a path separator", runtime);
        }
        return this;
    }

    /** Builds a {@link TaskSpec}. */
    public static final class Builder {
        private final String id;
        private ProcessSpec process;
        private String runtime = "";
        private @Nullable Path rootfs;

        Builder(String id, ProcessSpec process) {
            this.id = Objects.requireNonNull(id, "id");
            this.process = Objects.requireNonNull(process, "process");
        }

        /** Sets the runtime name; empty means the service's default. */
        public Builder runtime(String runtime) {
            this.runtime = Objects.requireNonNull(runtime, "runtime");
            return this;
        }

        /** Sets the container root filesystem directory, or {@code null} for a host process. */
        public Builder rootfs(@Nullable Path rootfs) {
            this.rootfs = rootfs;
            return this;
        }

        /** Replaces the init process. */
        public Builder process(ProcessSpec process) {
            this.process = Objects.requireNonNull(process, "process");
            return this;
        }

        public TaskSpec build() {
            return new TaskSpec(id, runtime, process, rootfs);
        }
    }
}
