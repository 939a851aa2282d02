package dev.berth.samples.cli;

import dev.berth.core.Errors;
import dev.berth.core.Namespaces;
import dev.berth.core.Identifiers;
import dev.berth.core.Task;
import dev.berth.core.TaskSpec;
import dev.berth.tasks.TaskManager;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An in-memory {@link TaskManager} whose tasks do only what the test scripts: they exit, print or react to
 * signals and stdin when the test says so. Every call records the namespace it saw in the Reactor Context.
 * {@link #restore()} records "restore" and emits the tasks the test put in {@link #tasks} before, the ones "left by
 * a previous owner", unless {@link #restoreFailure} is set.
 */
final class FakeTaskService implements TaskManager {
    /** "create default", "start builds", ...: each call with the namespace of its Context. */
    final List<String> calls = new CopyOnWriteArrayList<>();
    final List<FakeTask> tasks = new CopyOnWriteArrayList<>();
    volatile @Nullable RuntimeException createFailure;
    volatile @Nullable RuntimeException startFailure;
    volatile @Nullable RuntimeException restoreFailure;
    volatile @Nullable RuntimeException execFailure;
    /** Each exec created from now on runs this. */
    volatile FakeTask.Script execScript = FakeTask.Script.exitWith(0);
    final List<FakeTask> execs = new CopyOnWriteArrayList<>();
    /** The state directories the service was made for, one per command that made it. */
    final List<Path> states = new CopyOnWriteArrayList<>();
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

    /** A task "left by a previous owner" in {@code namespace}, already started and running {@code script}. */
    FakeTask running(String namespace, String id, FakeTask.Script script) {
        FakeTask task = new FakeTask(this, namespace, TaskSpec.process(id, "sleep", "100"), script);
        task.start().contextWrite(Namespaces.with(namespace)).block();
        calls.remove("start " + namespace); // set-up, not a call of the command under test
        tasks.add(task);
        return task;
    }

    @Override
    public Flux<Task> restore() {
        return Flux.defer(() -> {
            // Whether someone already listens: events published by a restore reach only earlier subscribers.
            calls.add(events.currentSubscriberCount() > 0 ? "restore(subscribed)" : "restore");
            RuntimeException failure = restoreFailure;
            return failure != null ? Flux.error(failure) : Flux.fromIterable(tasks).map(Task.class::cast);
        });
    }

    @Override
    public Mono<Task> get(String id) {
        return Mono.deferContextual(ctx -> {
            record("get", Namespaces.of(ctx));
            Identifiers.validate("task id", id);
            return Mono.justOrEmpty(tasks.stream()
                            .filter(t -> t.id().equals(id) && t.namespace().equals(Namespaces.of(ctx))
                                    && t.currentStatus() != dev.berth.core.TaskStatus.DELETED)
                            .<Task>map(t -> t)
                            .findFirst())
                    .switchIfEmpty(Mono.error(() -> Errors.notFound("task %s not found", id)));
        });
    }

    @Override
    public Flux<Task> list() {
        return Flux.deferContextual(ctx -> Flux.fromIterable(tasks)
                .filter(t -> t.namespace().equals(Namespaces.of(ctx))
                        && t.currentStatus() != dev.berth.core.TaskStatus.DELETED)
                .map(Task.class::cast));
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
