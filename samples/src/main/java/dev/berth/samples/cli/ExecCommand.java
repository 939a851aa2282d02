package dev.berth.samples.cli;

import dev.berth.core.Errors;
import dev.berth.core.Identifiers;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code berth exec}: runs one more process in a running task, in the foreground, and exits with its code. */
@Command(name = "exec", mixinStandardHelpOptions = true, sortOptions = false,
        customSynopsis = {"berth [--namespace NS] [--state DIR | --containerd SOCKET] exec",
            "          [-i] [-e K=V]... --exec-id EID ID [--] CMD [ARG...]"},
        description = {
            "Runs a command in a running task and exits with its exit code.",
            "",
            "Runs CMD in the running task ID as the exec EID; the exec is deleted when it ends. Its output is "
                    + "copied to this command's stdout and stderr; Ctrl-C and "
                    + "SIGTERM are forwarded to it. In a container its environment is exactly the -e entries, plus "
                    + "a default PATH.",
            ""},
        footerHeading = "%nExit status:%n",
        footer = {
            "  N        the exec exited with N",
            "  128+N    signal N killed it",
            "  125      berth failed: bad flags, unknown task, exec id in use, task not running, runtime error",
            "  126      CMD cannot be executed",
            "  127      CMD was not found"})
final class ExecCommand implements Callable<Integer> {
    private final BerthCli cli;

    @ParentCommand
    @Nullable TopCommand parent;

    @Option(names = {"-i", "--interactive"}, description = "Forward this command's stdin to the exec.")
    boolean interactive;

    @Option(names = "--exec-id", required = true, paramLabel = "EID", description = "Id of the exec, unique in "
            + "the task.")
    String execId = "";

    @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "Set an environment variable (repeatable).")
    List<String> env = new ArrayList<>();

    @Parameters(index = "0", paramLabel = "ID", description = "The running task.")
    String id = "";

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD", description = "The command and its arguments.")
    List<String> command = new ArrayList<>();

    ExecCommand(BerthCli cli) {
        this.cli = cli;
    }

    @Override
    public Integer call() {
        Identifiers.validate("task id", id);
        Identifiers.validate("exec id", execId);
        List<String> args = !command.isEmpty() && command.get(0).equals("--")
                ? command.subList(1, command.size()) : command;
        if (args.isEmpty()) {
            throw Errors.invalidArgument("missing CMD after the task id");
        }
        for (String entry : env) {
            if (entry.indexOf('=') <= 0) {
                throw Errors.invalidArgument("invalid -e \"%s\": expected NAME=VALUE", entry);
            }
        }
        return new ExecRun(cli, Session.open(cli, parent), id, execId, List.copyOf(args), List.copyOf(env),
                interactive).run();
    }
}
