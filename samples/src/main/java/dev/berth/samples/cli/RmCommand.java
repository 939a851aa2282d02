package dev.berth.samples.cli;

import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.Identifiers;
import dev.berth.core.Task;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code berth rm}: deletes a stopped task, or with {@code --force} a running one. */
@Command(name = "rm", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Deletes a task.", "",
            "Deletes a task that has stopped, with its container state. With --force a task that still "
                + "runs is killed (SIGKILL to every process) first. Prints nothing; its log file, if it ran with "
                + "-d, is kept.", ""},
        footerHeading = "%nExit status:%n",
        footer = {"  0        deleted", "  125      berth failed: the task runs (and no --force), is unknown, or a "
                + "runtime error"})
final class RmCommand implements Callable<Integer> {
    private final BerthCli cli;

    @ParentCommand
    @Nullable TopCommand parent;

    @Option(names = {"-f", "--force"}, description = "Kill the task first if it still runs.")
    boolean force;

    @Parameters(index = "0", paramLabel = "ID", description = "The task.")
    String id = "";

    RmCommand(BerthCli cli) {
        this.cli = cli;
    }

    @Override
    public Integer call() {
        Identifiers.validate("task id", id);
        try (Session session = Session.open(cli, parent)) {
            session.restore();
            Task task = session.task(id);
            try {
                session.orNull(task.delete(force), "delete task " + id);
            } catch (BerthException e) {
                if (!force && e.kind() == ErrorKind.FAILED_PRECONDITION) {
                    throw Errors.of(ErrorKind.FAILED_PRECONDITION, e, "task %s is running: stop it first (berth "
                            + "kill %s), or use rm --force", id, id);
                }
                throw Errors.wrap(e, "cannot delete task %s", id);
            }
            return 0;
        }
    }
}
