package dev.berth.samples.cli;

import dev.berth.LocalConfig;
import dev.berth.core.Errors;
import dev.berth.core.Namespaces;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code berth} itself: the options every command shares. Alone, it prints its usage. */
@Command(name = "berth", mixinStandardHelpOptions = true,
        description = "Runs tasks on Berth, a reactive container and task runtime.",
        footer = {"",
            "A task runs either in this JVM (the embedded runtime, the default: it ends with the command) or as a "
                    + "container under containerd-shim-runc-v2 (run --runtime io.containerd.runc.v2, as root), which "
                    + "can outlive the command: ps, kill, exec and rm act on those.",
            "",
            "The state directory has one owner at a time: a command that acts on containers (everything but a run "
                    + "on the embedded runtime) fails while another berth process owns it.",
            "",
            "With --containerd SOCKET every command acts on that containerd daemon instead: run makes containers "
                    + "there (--rootfs needed, runtime " + Runtimes.CONTAINERS + "), and ps, kill, exec, rm and "
                    + "events see all the daemon's tasks of the namespace, also those ctr created. No state "
                    + "directory is used then."})
final class TopCommand implements Callable<Integer> {
    private final BerthCli cli;

    @Spec
    @Nullable CommandSpec spec;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NS",
            description = "Namespace of the tasks (default: $" + BerthCli.NAMESPACE_VARIABLE + ", else "
                    + Namespaces.DEFAULT + ").")
    @Nullable String namespace;

    @Option(names = "--state", paramLabel = "DIR",
            description = "State directory of the containers (default: $" + BerthCli.STATE_VARIABLE
                    + ", else /run/berth for root).")
    @Nullable String state;

    @Option(names = "--containerd", paramLabel = "SOCKET",
            description = "Act on the containerd daemon listening on SOCKET, e.g. /run/containerd/containerd.sock "
                    + "(default: $" + BerthCli.CONTAINERD_VARIABLE + "); not with --state.")
    @Nullable String containerd;

    TopCommand(BerthCli cli) {
        this.cli = cli;
    }

    /** The namespace to act in: the option, else the environment variable, else {@code default}. */
    String namespace() {
        if (namespace != null) {
            return namespace;
        }
        String fromEnvironment = cli.environment.apply(BerthCli.NAMESPACE_VARIABLE);
        return fromEnvironment == null || fromEnvironment.isEmpty() ? Namespaces.DEFAULT : fromEnvironment;
    }

    /**
     * The state directory: the option, else the environment variable, else {@link LocalConfig#defaultState()}.
     *
     * @throws dev.berth.core.BerthException INVALID_ARGUMENT for a path that is not one
     */
    Path state() {
        String dir = state;
        if (dir == null || dir.isEmpty()) {
            dir = cli.environment.apply(BerthCli.STATE_VARIABLE);
        }
        if (dir == null || dir.isEmpty()) {
            return LocalConfig.defaultState();
        }
        try {
            return Path.of(dir).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw Errors.invalidArgument("invalid state directory \"%s\": %s", dir, e.getReason());
        }
    }

    /**
     * Where the tasks live: the containerd daemon of {@code --containerd} (else of the environment variable), else
     * the local runtimes over {@link #state()}.
     *
     * @throws dev.berth.core.BerthException INVALID_ARGUMENT for {@code --state} with a daemon, or a socket path
     *     that is not one
     */
    Target target() {
        String socket = containerd;
        String source = "--containerd";
        if (socket == null || socket.isEmpty()) {
            socket = cli.environment.apply(BerthCli.CONTAINERD_VARIABLE);
            source = "$" + BerthCli.CONTAINERD_VARIABLE;
        }
        if (socket == null || socket.isEmpty()) {
            return new Target.Local(state());
        }
        if (state != null) {
            throw Errors.invalidArgument("--state cannot be combined with %s: a containerd daemon keeps its tasks "
                    + "itself, berth uses no state directory with it", source);
        }
        try {
            return new Target.Containerd(Path.of(socket).toAbsolutePath().normalize());
        } catch (InvalidPathException e) {
            throw Errors.invalidArgument("invalid containerd socket \"%s\" (%s): %s", socket, source,
                    e.getReason());
        }
    }

    @Override
    public Integer call() {
        if (spec != null) {
            spec.commandLine().usage(cli.out);
        }
        return 0;
    }
}
