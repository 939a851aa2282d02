package dev.berth.samples.cli;

import dev.berth.core.Errors;
import dev.berth.core.ProcessSpec;
import dev.berth.core.TaskSpec;
import dev.berth.shims.embedded.EmbeddedRuntime;
import dev.berth.shims.v2.ShimV2Runtime;
import java.util.List;

/** The two runtimes the command line knows, and what differs between their tasks. */
final class Runtimes {
    /** Host processes in this JVM; the default. */
    static final String EMBEDDED = EmbeddedRuntime.NAME;
    /** Containers under containerd-shim-runc-v2 and runc. */
    static final String CONTAINERS = ShimV2Runtime.NAME;
    static final List<String> NAMES = List.of(EMBEDDED, CONTAINERS);
    /**
     * A container process sees exactly its spec's environment, and runc looks the program up on that PATH: without
     * one, {@code sleep} is not found. This is the PATH containerd's default spec and Docker give.
     */
    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private Runtimes() {
    }

    /** The runtime running {@code spec}'s task; an empty name is the service's default, the embedded one. */
    static String of(TaskSpec spec) {
        return spec.runtime().isEmpty() ? EMBEDDED : spec.runtime();
    }

    /** Whether {@code spec}'s task is a container. */
    static boolean isContainer(TaskSpec spec) {
        return of(spec).equals(CONTAINERS) || spec.rootfs() != null;
    }

    /** {@code process} with {@link #DEFAULT_PATH} unless it sets a PATH itself. */
    static ProcessSpec withDefaultPath(ProcessSpec process) {
        return process.env().containsKey("PATH") ? process : process.toBuilder().env("PATH", DEFAULT_PATH).build();
    }

    /** @throws dev.berth.core.BerthException PERMISSION_DENIED, saying so, unless this process is root */
    static void requireRoot(BerthCli cli) {
        if (!cli.root.getAsBoolean()) {
            throw Errors.of(dev.berth.core.ErrorKind.PERMISSION_DENIED,
                    "containers (%s) need root: runc creates namespaces and mounts; run berth as root, or use the "
                            + "embedded runtime (%s) for host processes", CONTAINERS, EMBEDDED);
        }
    }
}
