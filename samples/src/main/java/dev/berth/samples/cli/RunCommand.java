package dev.berth.samples.cli;

import dev.berth.LocalConfig;
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

/**
 * {@code berth run}: creates a task, runs it in the foreground, deletes it and exits with its exit code; or, with
 * {@code -d}, starts a container and leaves it running.
 */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        customSynopsis = {"berth [--namespace NS] [--state DIR | --containerd SOCKET] run",
            "          [--rm] [-i] [--events] [-e K=V]... [--cwd DIR] [--runtime NAME]",
            "          [--rootfs DIR] [-d] ID [--] CMD [ARG...]"},
        description = {
            "Runs a command as a task in the foreground and exits with its exit code.",
            "",
            "The task's output is copied to this command's stdout and stderr as it arrives. Ctrl-C is forwarded "
                    + "to the task as SIGINT (a second Ctrl-C sends SIGKILL to all its processes) and SIGTERM as "
                    + "SIGTERM. In the foreground the task ends with this command and is always deleted when it "
                    + "exits.",
            "",
            "With --runtime " + Runtimes.CONTAINERS + " the task is a container (root needed) over the root "
                    + "filesystem --rootfs; its environment is exactly the -e entries, plus a default PATH. With -d "
                    + "it is started and left running: its stdout and stderr are appended to "
                    + "<state>/.logs/<namespace>/<id>.log, whose path is printed; ps, exec, kill and rm act on it.",
            "",
            "With --containerd the task is a container made by that daemon (--rootfs needed, runtime "
                    + Runtimes.CONTAINERS + "), in the foreground only: -d is refused, since the daemon client "
                    + "deletes the containers it made when the command ends.",
            ""},
        footerHeading = "%nExit status:%n",
        footer = {
            "  0        with -d: the container started",
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

    @Option(names = "--runtime", paramLabel = "NAME",
            description = "The runtime: " + Runtimes.EMBEDDED + " (host processes in this JVM, the default) or "
                    + Runtimes.CONTAINERS + " (containers, root needed; the only one, and the default, with "
                    + "--containerd).")
    @Nullable String runtime;

    @Option(names = "--rootfs", paramLabel = "DIR",
            description = "Root filesystem of the container; required for, and only valid with, --runtime "
                    + Runtimes.CONTAINERS + ".")
    @Nullable String rootfs;

    @Option(names = {"-d", "--detach"}, description = "Start the container and leave it running (--runtime "
            + Runtimes.CONTAINERS + " only); print the path of its log file.")
    boolean detach;

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
        Target target;
        boolean container;
        try {
            Namespaces.with(namespace);
            target = parent == null ? new Target.Local(LocalConfig.defaultState()) : parent.target();
            boolean daemon = target instanceof Target.Containerd;
            container = checkRuntime(daemon);
            if (daemon) {
                // The daemon's socket permissions decide who may run containers there, not this process's uid.
                spec = taskSpec(true, interactive ? Stdio.DEFAULT.withStdinPipe() : Stdio.DEFAULT);
                return new TaskRun(cli, target, namespace, spec, interactive, events, false).run();
            }
            Path state = ((Target.Local) target).state();
            if (detach) {
                Path log = DetachedRun.logFile(state, namespace, id);
                spec = taskSpec(container, new Stdio(Stdio.Input.NULL, Stdio.Output.appendTo(log),
                        Stdio.Output.appendTo(log)));
                if (container) {
                    Runtimes.requireRoot(cli);
                }
                return new DetachedRun(cli, state, namespace, spec, log).run();
            }
            spec = taskSpec(container, interactive ? Stdio.DEFAULT.withStdinPipe() : Stdio.DEFAULT);
            if (container) {
                Runtimes.requireRoot(cli);
            }
        } catch (BerthException e) {
            cli.report(e.getMessage());
            return ExitCodes.BERTH_ERROR;
        }
        return new TaskRun(cli, target, namespace, spec, interactive, events, container).run();
    }

    /**
     * Checks the runtime and the flags that depend on it.
     *
     * @param daemon whether the task goes to a containerd daemon, where the default runtime is the containers'
     * @return whether the task is a container
     * @throws BerthException INVALID_ARGUMENT for an unknown runtime or a flag it does not take
     */
    private boolean checkRuntime(boolean daemon) {
        String runtime = this.runtime != null ? this.runtime : daemon ? Runtimes.CONTAINERS : Runtimes.EMBEDDED;
        if (!Runtimes.NAMES.contains(runtime)) {
            throw Errors.invalidArgument("unknown runtime \"%s\" (have %s)", runtime,
                    String.join(", ", Runtimes.NAMES));
        }
        if (daemon && !runtime.equals(Runtimes.CONTAINERS)) {
            throw Errors.invalidArgument("--runtime %s cannot be used with --containerd: the daemon runs "
                    + "containers only, with %s", runtime, Runtimes.CONTAINERS);
        }
        if (daemon && detach) {
            // The remote service deletes the containers it created when it is closed, at the end of this command.
            throw Errors.invalidArgument("-d is not available with --containerd: the containerd client deletes "
                    + "the containers it created when the command ends; run it in the foreground, or start it "
                    + "with ctr run -d");
        }
        boolean container = runtime.equals(Runtimes.CONTAINERS);
        if (!container && rootfs != null) {
            throw Errors.invalidArgument("--rootfs is only valid with --runtime %s", Runtimes.CONTAINERS);
        }
        if (container && rootfs == null) {
            throw Errors.invalidArgument("--runtime %s needs --rootfs DIR, the container's root filesystem",
                    Runtimes.CONTAINERS);
        }
        if (detach) {
            if (!container) {
                throw Errors.invalidArgument("-d needs --runtime %s: a task of %s runs in this command's JVM and "
                        + "cannot outlive it", Runtimes.CONTAINERS, Runtimes.EMBEDDED);
            }
            if (interactive) {
                throw Errors.invalidArgument("-i cannot be combined with -d: nobody is left to forward stdin");
            }
            if (rm) {
                throw Errors.invalidArgument("--rm cannot be combined with -d: use berth rm once it exited");
            }
            if (events) {
                throw Errors.invalidArgument("--events cannot be combined with -d: use berth events");
            }
        }
        return container;
    }

    private TaskSpec taskSpec(boolean container, Stdio stdio) {
        Identifiers.validate("task id", id);
        // With stop-at-positional parsing, a "--" after the id reaches us as the first word of the command.
        List<String> args = !command.isEmpty() && command.get(0).equals("--")
                ? command.subList(1, command.size()) : command;
        if (args.isEmpty()) {
            throw Errors.invalidArgument("missing CMD after the task id");
        }
        ProcessSpec.Builder process = ProcessSpec.builder(args)
                .stdio(stdio)
                .cwd(cwd == null ? null : container ? containerDirectory(cwd) : workingDirectory(cwd));
        for (String entry : env) {
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw Errors.invalidArgument("invalid -e \"%s\": expected NAME=VALUE", entry);
            }
            process.env(entry.substring(0, eq), entry.substring(eq + 1));
        }
        if (!container) {
            return TaskSpec.of(id, process.build()).validate();
        }
        return TaskSpec.builder(id, Runtimes.withDefaultPath(process.build()))
                .runtime(Runtimes.CONTAINERS)
                .rootfs(rootfsDirectory())
                .build()
                .validate();
    }

    /** The absolute form of {@code --rootfs}; one that is not a directory is berth's error. */
    private Path rootfsDirectory() {
        String dir = rootfs == null ? "" : rootfs;
        Path path;
        try {
            path = Path.of(dir).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw Errors.invalidArgument("invalid --rootfs \"%s\": %s", dir, e.getReason());
        }
        if (!Files.isDirectory(path)) {
            throw Errors.invalidArgument("--rootfs %s is not a directory", dir);
        }
        return path;
    }

    /** A container's working directory is a path inside it: absolute, and not looked at on this host. */
    private static String containerDirectory(String dir) {
        if (!dir.startsWith("/")) {
            throw Errors.invalidArgument("--cwd %s must be absolute inside a container", dir);
        }
        return dir;
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
