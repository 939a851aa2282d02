package dev.berth.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What to run: the command line, environment, working directory and stdio of one process.
 *
 * <p>Environment: a host process in the embedded runtime inherits the JVM's environment and {@link #env()}
 * overrides or adds to it; a container process sees exactly {@link #env()}.
 *
 * @param args the program and its arguments; the program is looked up on {@code PATH} unless it has a slash
 * @param env environment entries set for the process
 * @param cwd the working directory, absolute; {@code null} means the runtime's default (the JVM's working
 *     directory for host processes, {@code /} in containers)
 * @param stdio where the standard streams go
 */
public record ProcessSpec(List<String> args, Map<String, String> env, @Nullable String cwd, Stdio stdio) {
    public ProcessSpec {
        args = List.copyOf(Objects.requireNonNull(args, "args"));
        env = Map.copyOf(Objects.requireNonNull(env, "env"));
        Objects.requireNonNull(stdio, "stdio");
    }

    /** A process running {@code args} with default stdio, no extra environment and the default cwd. */
    public static ProcessSpec of(String... args) {
        return builder(args).build();
    }

    /** A builder starting from {@code args}. */
    public static Builder builder(String... args) {
        return new Builder(List.of(args));
    }

    /** A builder starting from {@code args}. */
    public static Builder builder(List<String> args) {
        return new Builder(args);
    }

    /** A builder holding this spec's values. */
    public Builder toBuilder() {
        Builder b = new Builder(args).cwd(cwd).stdio(stdio);
        env.forEach(b::env);
        return b;
    }

    /**
     * Checks what can be checked without touching the system.
     *
     * @throws BerthException INVALID_ARGUMENT for empty args, an empty or NUL-containing argument, an environment
     *     name that is empty or holds {@code =} or NUL, or a relative cwd
     */
    public ProcessSpec validate() {
        if (args.isEmpty()) {
            throw Errors.invalidArgument("args must not be empty");
        }
        if (args.get(0).isEmpty()) {
            throw Errors.invalidArgument("the program name must not be empty");
        }
        for (String a : args) {
            if (a.indexOf('\0') >= 0) {
                throw Errors.invalidArgument("argument %s contains a NUL character", a.replace("\0", "\\0"));
            }
        }
        env.forEach((k, v) -> {
            if (k.isEmpty() || k.indexOf('=') >= 0 || k.indexOf('\0') >= 0 || v.indexOf('\0') >= 0) {
                throw Errors.invalidArgument("invalid environment entry \"%s\"", k.replace("\0", "\\0"));
            }
        });
        if (cwd != null && !cwd.startsWith("/")) {
            throw Errors.invalidArgument("cwd \"%s\" must be an absolute path", cwd);
        }
        return this;
    }

    /** Builds a {@link ProcessSpec}. */
    public static final class Builder {
        private final List<String> args;
        private final Map<String, String> env = new LinkedHashMap<>();
        private @Nullable String cwd;
        private Stdio stdio = Stdio.DEFAULT;

        Builder(List<String> args) {
            this.args = new ArrayList<>(Objects.requireNonNull(args, "args"));
        }

        /** Sets one environment entry. */
        public Builder env(String name, String value) {
            env.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        /** Sets the working directory (absolute), or {@code null} for the default. */
        public Builder cwd(@Nullable String cwd) {
            this.cwd = cwd;
            return this;
        }

        /** Sets the stdio configuration. */
        public Builder stdio(Stdio stdio) {
            this.stdio = Objects.requireNonNull(stdio, "stdio");
            return this;
        }

        public ProcessSpec build() {
            return new ProcessSpec(args, env, cwd, stdio);
        }
    }
}
