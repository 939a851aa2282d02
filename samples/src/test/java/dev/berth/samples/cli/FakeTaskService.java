package dev.berth.samples.cli;

import dev.berth.core.Errors;
import dev.berth.core.Namespaces;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An in-memory {@link TaskService} whose tasks do only what the test scripts: they exit, print or react to
 * signals and stdin when the test says so. Every call records the namespace it saw in the Reactor Context.
 */
final class FakeTaskService implements TaskService {
    /** "create default", "start builds", ...: each call with the namespace of its Context. */
    final List<String> calls = new CopyOnWriteArrayList<>();
    final List<FakeTask> tasks = new CopyOnWriteArrayList<>();
    volatile @Nullable RuntimeException createFailure;
    volatile @Nullable RuntimeException startFailure;
    volatile FakeTask.Script script = FakeTask.Script.exitWith(0);
    volatile boolean closed;

    /** Each task created from now on runs {@code script}. */
    FakeTaskService script(FakeTask.Script script) {
        this.script = script;
        return this;
    }

    /** Each task created from now on runs {@code onStart} when it starts (and exits only if that says so). */
    FakeTaskService onStart(Consumer<FakeTask> onStart) {
        return script(new FakeTask.Script() {
            @Override
            public void started(FakeTask task) {
                onStart.accept(task);
            }
        });
    }

    FakeTask task() {
        return tasks.get(tasks.size() - 1);
    }

    void record(String call, String namespace) {
        calls.add(call + " " + namespace);
    }

    @Override
    public Mono<Task> create(TaskSpec spec) {
        return Mono.deferContextual(ctx -> {
            record("create", Namespaces.of(ctx));
            RuntimeException failure = createFailure;
            if (failure != null) {
                return Mono.error(failure);
            }
            FakeTask task = new FakeTask(this, Namespaces.of(ctx), spec.validate(), script);
            tasks.add(task);
            return Mono.just(task);
        });
    }

    @Override
    public Mono<Task> get(String id) {
        return Mono.error(Errors.notImplemented("get"));
    }

    @Override
    public Flux<Task> list() {
        return Flux.fromIterable(tasks);
    }

    /** Events the fake's subscribers see: every event emitted here, replayed to late subscribers. */
    final reactor.core.publisher.Sinks.Many<dev.berth.core.Envelope> events =
            reactor.core.publisher.Sinks.many().replay().all();

    @Override
    public dev.berth.core.EventSubscriber events() {
        return new dev.berth.core.EventSubscriber() {
            @Override
            public Flux<dev.berth.core.Envelope> subscribe(String... filters) {
                return subscribe(dev.berth.core.SubscribeOptions.DEFAULTS, filters);
            }

            @Override
            public Flux<dev.berth.core.Envelope> subscribe(dev.berth.core.SubscribeOptions options,
                    String... filters) {
                return Flux.defer(() -> {
                    dev.berth.events.EventFilter filter = dev.berth.events.EventFilter.parse(filters);
                    return events.asFlux().filter(filter::test);
                });
            }
        };
    }

    @Override
    public Mono<Void> close() {
        return Mono.fromRunnable(() -> closed = true);
    }
}
