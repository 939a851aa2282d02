package dev.berth.samples.cli;

import dev.berth.core.BerthException;
import dev.berth.core.Envelope;
import dev.berth.events.EventFilter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import reactor.core.Disposable;

/** {@code berth events}: prints events as they happen, until interrupted. */
@Command(name = "events", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Prints one line per event as it happens (timestamp, namespace, topic, then the event's fields), until "
                    + "Ctrl-C.",
            "",
            "FILTER uses containerd's language: entries are OR-ed, the selectors of one entry (a==b,c~=d) are "
                    + "AND-ed, on namespace, topic and event.<field>. Examples: topic~=\"^/tasks/\" or "
                    + "namespace==default,topic==\"/tasks/exit\". Events of every namespace are shown unless a "
                    + "filter says otherwise.",
            "",
            "The containers left running by earlier commands are taken over first, so their events show, and "
                    + "those their shims forward beyond the lifecycle (/tasks/oom, ...). This command owns the "
                    + "state directory while it runs: other berth commands over containers fail until it ends. "
                    + "Embedded tasks live in the JVM of their own berth run, so their events show only there: use "
                    + "`berth run --events`.",
            "",
            "With --containerd, the daemon's events are shown, filtered by the daemon, and no state directory "
                    + "is owned.",
            ""},
        footerHeading = "%nExit status:%n",
        footer = {"  0        the event stream ended", "  125      a bad filter, the state directory owned by another "
                + "berth process, or a runtime error"})
final class EventsCommand implements Callable<Integer> {
    private final BerthCli cli;

    @ParentCommand
    @Nullable TopCommand parent;

    @Option(names = "--json", description = "Print one JSON object per line.")
    boolean json;

    @Parameters(paramLabel = "FILTER", arity = "0..*", description = "Filters; any one matching shows the event.")
    List<String> filters = new ArrayList<>();

    EventsCommand(BerthCli cli) {
        this.cli = cli;
    }

    @Override
    public Integer call() {
        String[] entries = filters.toArray(String[]::new);
        try {
            EventFilter.parse(entries); // a bad filter is berth's error, with its position, before anything starts
        } catch (BerthException e) {
            cli.report(e.getMessage());
            return ExitCodes.BERTH_ERROR;
        }
        Session session;
        try {
            session = Session.open(cli, parent);
        } catch (BerthException e) {
            cli.report(e.getMessage());
            return ExitCodes.BERTH_ERROR;
        }
        CompletableFuture<@Nullable Void> done = new CompletableFuture<>();
        // Subscribed before the restore: the exits of containers that ended while nobody owned them are published
        // by it, and would be missed otherwise.
        Disposable subscription = session.service.events().subscribe(entries)
                .subscribe(this::print, done::completeExceptionally, () -> done.complete(null));
        try (session; SignalTrap.Registration trap = cli.signals.trap(signal -> done.complete(null))) {
            session.restore();
            done.join();
            return 0;
        } catch (BerthException e) {
            cli.report(e.getMessage());
            return ExitCodes.BERTH_ERROR;
        } catch (CompletionException e) {
            cli.report(Messages.of(e.getCause()));
            return ExitCodes.BERTH_ERROR;
        } finally {
            subscription.dispose();
        }
    }

    private void print(Envelope envelope) {
        cli.out.println(json ? EventFormat.json(envelope) : EventFormat.text(envelope));
        cli.out.flush();
    }
}
