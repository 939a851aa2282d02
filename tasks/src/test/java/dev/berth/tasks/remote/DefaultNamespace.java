package dev.berth.tasks.remote;

import dev.berth.core.EventSubscriber;
import dev.berth.core.Namespaces;
import dev.berth.core.Task;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;

/**
 * A {@link TaskService} whose calls without a namespace in their Context act in {@code namespace} instead of
 * {@code default}; a namespace set by the caller is passed on untouched. The behaviour suite runs its tasks in the
 * Context's default namespace, and runc keeps its state per host under {@code /run/containerd/runc/<ns>/<id>}: in
 * {@code default} the suite's ids would collide with the other container suites running on this host.
 */
final class DefaultNamespace implements TaskService {
    private final TaskService delegate;
    private final String namespace;

    DefaultNamespace(TaskService delegate, String namespace) {
        this.delegate = delegate;
        this.namespace = namespace;
    }

    private Context withDefault(Context ctx) {
        return ctx.hasKey(Namespaces.KEY) ? ctx : ctx.put(Namespaces.KEY, namespace);
    }

    @Override
    public Mono<Task> create(TaskSpec spec) {
        return delegate.create(spec).contextWrite(this::withDefault);
    }

    @Override
    public Mono<Task> get(String id) {
        return delegate.get(id).contextWrite(this::withDefault);
    }

    @Override
    public Flux<Task> list() {
        return delegate.list().contextWrite(this::withDefault);
    }

    @Override
    public EventSubscriber events() {
        return delegate.events();
    }

    @Override
    public Mono<Void> close() {
        return delegate.close();
    }
}
