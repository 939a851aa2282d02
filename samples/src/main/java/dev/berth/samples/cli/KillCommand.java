package dev.berth.samples.cli;

import dev.berth.core.Errors;
import dev.berth.core.Identifiers;
import dev.berth.core.KillScope;
import dev.berth.core.Signal;
import dev.berth.core.Task;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code berth kill}: sends a signal to a task's init process, or to all its processes. */
@Command(name = "kill", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Sends a signal to a task.", "",
            "Sends SIG to the task's init process (with --all, to every process of the task). Prints nothing; the "
                    + "task's exit shows in berth ps and berth events.", ""},
        footerHeading = "%nExit status:%n",
        footer = {"  0        the signal was delivered",
            "  125      berth failed: unknown signal or task, the task does not run, a runtime error"})
final class KillCommand implements Callable<Integer> {
    private final BerthCli cli;

    @ParentCommand
    @Nullable TopCommand parent;

    @Option(names = {"-s", "--signal"}, paramLabel = "SIG", defaultValue = "TERM",
            description = "The signal, by name (TERM, SIGTERM) or number (default: ${DEFAULT-VALUE}).")
    String signal = "TERM";

    @Option(names = {"-a", "--all"}, description = "Signal every process of the task, not only its init.")
    boolean all;

    @Parameters(index = "0", paramLabel = "ID", description = "The task.")
    String id = "";

    KillCommand(BerthCli cli) {
        this.cli = cli;
    }

    @Override
    public Integer call() {
        Signal parsed = Signal.parse(signal);
        Identifiers.validate("task id", id);
        try (Session session = Session.open(cli, parent)) {
            session.restore();
            Task task = session.task(id);
            try {
                session.orNull(task.kill(parsed, all ? KillScope.ALL : KillScope.INIT), "signal task " + id);
            } catch (RuntimeException e) {
                throw Errors.wrap(e, "cannot send %s to task %s", parsed, id);
            }
            return 0;
        }
    }
}
