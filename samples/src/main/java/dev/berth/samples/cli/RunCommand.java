package dev.berth.samples.cli;

import dev.berth.core.BerthException;
import dev.berth.core.Errors;
import dev.berth.core.Identifiers;
import dev.berth.core.Namespaces;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Stdio;
import dev.berth.core.TaskSpec;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code berth run}: creates a task, runs it in the foreground, deletes it and exits with its exit code. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        customSynopsis = {"berth [--namespace NS] run [--rm] [-i] [--events] [-e K=V]... [--cwd DIR]",
            "                           ID [--] CMD [ARG...]"},
        description = {
            "Runs a command as a task in the foreground and exits with its exit code.",
            "",
            "The task's output is copied to this command's stdout and stderr as it arrives. Ctrl-C is forwarded "
                    + "to the task as SIGINT (a second Ctrl-C sends SIGKILL to all its processes) and SIGTERM as "
                    + "SIGTERM. The task ends with this command and is always deleted when it exits.",
            ""},
        footerHeading = "%nExit status:%n",
        footer = {
            "  N        the task exited with N",
            "  128+N    signal N killed the task",
            "  125      berth failed: bad flags, invalid id, runtime error",
            "  126      CMD cannot be executed",
            "  127      CMD was not found"})
final class RunCommand implements Callable<Integer> {
    private final BerthCli cli;

    @ParentCommand
    @Nullable TopCommand parent;

    @Option(names = "--rm", description = "Delete the task when it exits. Always done: the task cannot outlive "
            + "this command, so the flag is accepted for compatibility with container runtimes.")
    boolean rm;

    @Option(names = {"-i", "--interactive"}, description = "Forward this command's stdin to the task.")
    boolean interactive;

    @Option(names = "--events", description = "Print the task's lifecycle events to stderr as they happen.")
    boolean events;

    @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "Set an environment variable (repeatable).")
    List<String> env = new ArrayList<>();

    @Option(names = {"-w", "--cwd"}, paramLabel = "DIR",
            description = "Working directory of the task (default: this command's).")
    @Nullable String cwd;

    @Parameters(index = "0", paramLabel = "ID", description = "Task id: letters and digits joined by . _ or -.")
    String id = "";

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD", description = "The command and its arguments.")
    List<String> command = new ArrayList<>();

    RunCommand(BerthCli cli) {
        this.cli = cli;
    }

    @Override
    public Integer call() {
        String namespace = parent == null ? Namespaces.DEFAULT : parent.namespace();
        TaskSpec spec;
        try {
            Namespaces.with(namespace);
            spec = taskSpec();
        } catch (BerthException e) {
            cli.report(e.getMessage());
            return ExitCodes.BERTH_ERROR;
        }
        return new TaskRun(cli, namespace, spec, interactive, events).run();
    }

    private TaskSpec taskSpec() {
        Identifiers.validate("task id", id);
        // With stop-at-positional parsing, a "--" after the id reaches us as the first word of the command.
        List<String> args = !command.isEmpty() && command.get(0).equals("--")
                ? command.subList(1, command.size()) : command;
        if (args.isEmpty()) {
            throw Errors.invalidArgument("missing CMD after the task id");
        }
        ProcessSpec.Builder process = ProcessSpec.builder(args)
                .stdio(interactive ? Stdio.DEFAULT.withStdinPipe() : Stdio.DEFAULT)
                .cwd(cwd == null ? null : workingDirectory(cwd));
        for (String entry : env) {
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw Errors.invalidArgument("invalid -e \"%s\": expected NAME=VALUE", entry);
            }
            process.env(entry.substring(0, eq), entry.substring(eq + 1));
        }
        return TaskSpec.of(id, process.build()).validate();
    }

    /**
     * The absolute form of {@code dir}. The embedded runtime runs host processes, so a relative directory is
     * resolved here, and one that does not exist is berth's error (125) rather than the runtime's NOT_FOUND, which
     * would read as "command not found" (127).
     */
    private static String workingDirectory(String dir) {
        Path path;
        try {
            path = Path.of(dir).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw Errors.invalidArgument("invalid --cwd \"%s\": %s", dir, e.getReason());
        }
        if (!Files.isDirectory(path)) {
            throw Errors.invalidArgument("--cwd %s is not a directory", dir);
        }
        return path.toString();
    }
}
