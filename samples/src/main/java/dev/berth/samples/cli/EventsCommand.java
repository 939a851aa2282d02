package dev.berth.samples.cli;

import dev.berth.core.BerthException;
import dev.berth.core.Envelope;
import dev.berth.core.TaskService;
import dev.berth.events.EventFilter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
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
            "The embedded runtime lives in the JVM that runs the tasks, so this command sees the events of its own "
                    + "JVM only; use `berth run --events` to watch a task's lifecycle.",
            ""},
        footerHeading = "%nExit status:%n",
        footer = {"  0        the event stream ended", "  125      a bad filter or a runtime error"})
final class EventsCommand implements Callable<Integer> {
    private final BerthCli cli;

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
        TaskService service;
        try {
            service = cli.services.get();
        } catch (RuntimeException e) {
            cli.report(String.valueOf(e.getMessage()));
            return ExitCodes.BERTH_ERROR;
        }
        CompletableFuture<@Nullable Void> done = new CompletableFuture<>();
        Disposable subscription = service.events().subscribe(entries)
                .subscribe(this::print, done::completeExceptionally, () -> done.complete(null));
        try (SignalTrap.Registration trap = cli.signals.trap(signal -> done.complete(null))) {
            done.join();
            return 0;
        } catch (CompletionException e) {
            cli.report(String.valueOf(e.getCause().getMessage()));
            return ExitCodes.BERTH_ERROR;
        } finally {
            subscription.dispose();
            service.close().block(Duration.ofSeconds(30));
        }
    }

    private void print(Envelope envelope) {
        cli.out.println(json ? EventFormat.json(envelope) : EventFormat.text(envelope));
        cli.out.flush();
    }
}
