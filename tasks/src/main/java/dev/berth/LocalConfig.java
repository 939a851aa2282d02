package dev.berth;

import dev.berth.core.Errors;
import dev.berth.shims.embedded.EmbeddedRuntime;
import dev.berth.shims.v2.ShimV2Runtime;
import dev.berth.tasks.ClosePolicy;
import dev.berth.tasks.TaskManagerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The settings of {@link Berth#local(LocalConfig)}.
 *
 * @param state the state directory: the shim v2 runtime's bundles, the shims' events socket and the lock that
 *     makes one process at a time its owner. Its absolute path must leave room for {@code /.events.sock} within a
 *     Unix socket path (107 bytes).
 * @param defaultRuntime the runtime of tasks whose spec names none: {@link EmbeddedRuntime#NAME} or
 *     {@link ShimV2Runtime#NAME}
 * @param stopGrace how long {@code close()} waits after SIGTERM before SIGKILL, for the tasks it stops
 * @param closePolicy what {@code close()} does to the tasks still owned
 * @param shimsPerNamespace at most how many shim daemons serve one namespace's containers (see
 *     {@link ShimV2Runtime.Config}); at least 1
 * @param shimLinger how long a shim daemon without tasks waits for the next one; zero ends it with its last task
 */
public record LocalConfig(Path state, String defaultRuntime, Duration stopGrace, ClosePolicy closePolicy,
        int shimsPerNamespace, Duration shimLinger) {
    public LocalConfig {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(defaultRuntime, "defaultRuntime");
        Objects.requireNonNull(stopGrace, "stopGrace");
        Objects.requireNonNull(closePolicy, "closePolicy");
        Objects.requireNonNull(shimLinger, "shimLinger");
        if (shimsPerNamespace < 1 || shimLinger.isNegative()) {
            throw Errors.invalidArgument("a shim pool needs shimsPerNamespace >= 1 (not %d) and a linger >= 0 (not %s)",
                    shimsPerNamespace, shimLinger);
        }
        if (!defaultRuntime.equals(EmbeddedRuntime.NAME) && !defaultRuntime.equals(ShimV2Runtime.NAME)) {
            throw Errors.invalidArgument("unknown runtime %s (have %s, %s)", defaultRuntime, EmbeddedRuntime.NAME,
                    ShimV2Runtime.NAME);
        }
        if (stopGrace.isNegative()) {
            throw Errors.invalidArgument("stop grace %s is negative", stopGrace);
        }
        state = state.toAbsolutePath().normalize();
    }

    /**
     * The defaults over {@code state}: the embedded runtime first, {@link TaskManagerConfig#DEFAULT_STOP_GRACE},
     * tasks stopped on close, {@link ShimV2Runtime#DEFAULT_SHIMS_PER_NAMESPACE} shims per namespace lingering
     * {@link ShimV2Runtime#DEFAULT_SHIM_LINGER}.
     */
    public static LocalConfig of(Path state) {
        return new LocalConfig(state, EmbeddedRuntime.NAME, TaskManagerConfig.DEFAULT_STOP_GRACE, ClosePolicy.STOP,
                ShimV2Runtime.DEFAULT_SHIMS_PER_NAMESPACE, ShimV2Runtime.DEFAULT_SHIM_LINGER);
    }

    /**
     * The default state directory: {@code /run/berth} for root, else {@code $XDG_RUNTIME_DIR/berth}, else
     * {@code <java.io.tmpdir>/berth-<user>}.
     */
    public static Path defaultState() {
        if ("root".equals(System.getProperty("user.name"))) {
            return Path.of("/run/berth");
        }
        String runtimeDir = System.getenv("XDG_RUNTIME_DIR");
        if (runtimeDir != null && !runtimeDir.isBlank()) {
            return Path.of(runtimeDir, "berth");
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "berth-" + System.getProperty("user.name"));
    }

    /** This config with another default runtime. */
    public LocalConfig withDefaultRuntime(String runtime) {
        return new LocalConfig(state, runtime, stopGrace, closePolicy, shimsPerNamespace, shimLinger);
    }

    /** This config with another grace period between SIGTERM and SIGKILL on close. */
    public LocalConfig withStopGrace(Duration grace) {
        return new LocalConfig(state, defaultRuntime, grace, closePolicy, shimsPerNamespace, shimLinger);
    }

    /** This config with another close policy. */
    public LocalConfig withClosePolicy(ClosePolicy policy) {
        return new LocalConfig(state, defaultRuntime, stopGrace, policy, shimsPerNamespace, shimLinger);
    }

    /** This config with another shim pool: at most {@code perNamespace} daemons, idle ones kept {@code linger}. */
    public LocalConfig withShimPool(int perNamespace, Duration linger) {
        return new LocalConfig(state, defaultRuntime, stopGrace, closePolicy, perNamespace, linger);
    }
}
