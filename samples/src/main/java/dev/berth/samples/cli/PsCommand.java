package dev.berth.samples.cli;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ProcessInfo;
import dev.berth.core.Task;
import dev.berth.core.TaskStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import reactor.core.publisher.Mono;

/** {@code berth ps}: the tasks of the namespace, as {@code ctr task ls} shows them, plus their runtime. */
@Command(name = "ps", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Lists the tasks of the namespace.",
            "",
            "Sorted by id: TASK, PID (of the init process, 0 when it does not "
                    + "run), STATUS and RUNTIME. The containers left running by earlier commands are taken over "
                    + "first; tasks of the embedded runtime live in the JVM of their own berth run and are never "
                    + "listed here. With --containerd, the daemon's tasks of the namespace are listed, those ctr "
                    + "or other clients created included.",
            ""},
        footerHeading = "%nExit status:%n",
        footer = {"  0        listed", "  125      berth failed: the state directory is owned by another berth "
                + "process, a runtime error"})
final class PsCommand implements Callable<Integer> {
    private final BerthCli cli;

    @ParentCommand
    @Nullable TopCommand parent;

    @Option(names = {"-q", "--quiet"}, description = "Print the task ids only.")
    boolean quiet;

    PsCommand(BerthCli cli) {
        this.cli = cli;
    }

    /** One line of the listing. */
    record Row(String task, int pid, TaskStatus status, String runtime) {
    }

    @Override
    public Integer call() {
        try (Session session = Session.open(cli, parent)) {
            session.restore();
            List<Task> tasks = session.await(session.service.list().collectList(), "list tasks");
            List<Row> rows = new ArrayList<>();
            for (Task task : tasks) {
                rows.add(row(session, task));
            }
            rows.sort(Comparator.comparing(Row::task));
            print(rows);
            return 0;
        }
    }

    private Row row(Session session, Task task) {
        TaskStatus status = session.await(task.status(), "status of task " + task.id());
        Integer pid = session.orNull(task.pids().next().map(ProcessInfo::pid)
                // the task stopped or was deleted meanwhile: it has no process to show
                .onErrorResume(e -> Errors.is(e, ErrorKind.FAILED_PRECONDITION)
                        || Errors.is(e, ErrorKind.NOT_FOUND), e -> Mono.empty()), "processes of task " + task.id());
        return new Row(task.id(), status == TaskStatus.RUNNING || status == TaskStatus.PAUSED
                ? (pid == null ? 0 : pid) : 0, status, Runtimes.of(task.spec()));
    }

    private void print(List<Row> rows) {
        if (quiet) {
            rows.forEach(r -> cli.out.println(r.task()));
            cli.out.flush();
            return;
        }
        List<String[]> lines = new ArrayList<>();
        lines.add(new String[] {"TASK", "PID", "STATUS", "RUNTIME"});
        rows.forEach(r -> lines.add(new String[] {r.task(), String.valueOf(r.pid()), r.status().name(),
            r.runtime()}));
        cli.out.print(Table.format(lines));
        cli.out.flush();
    }
}
