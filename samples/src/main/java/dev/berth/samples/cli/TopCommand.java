package dev.berth.samples.cli;

import dev.berth.core.Namespaces;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code berth} itself: the options every command shares. Alone, it prints its usage. */
@Command(name = "berth", mixinStandardHelpOptions = true,
        description = "Runs tasks on Berth, a reactive container and task runtime.",
        footer = {"", "Each task runs in this JVM (the embedded runtime) and ends with the command."})
final class TopCommand implements Callable<Integer> {
    private final BerthCli cli;

    @Spec
    @Nullable CommandSpec spec;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NS",
            description = "Namespace of the tasks (default: $" + BerthCli.NAMESPACE_VARIABLE + ", else "
                    + Namespaces.DEFAULT + ").")
    @Nullable String namespace;

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

    @Override
    public Integer call() {
        if (spec != null) {
            spec.commandLine().usage(cli.out);
        }
        return 0;
    }
}
