package dev.berth.core;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Creates, finds and lists tasks. Every method acts in the namespace of the subscriber's Reactor Context
 * ({@link Namespaces}), {@code default} when none is set. Obtain one from {@code dev.berth.Berth}.
 *
 * <p>Closing the service ends every task it owns: SIGTERM, a grace period, then SIGKILL, and each exit is reaped.
 */
public interface TaskService extends AsyncCloseable {
    /**
     * Creates a task. The init process exists but does not run until {@link Task#start()}; its
     * {@link Task#exit()} is already hot.
     *
     * @return a cold Mono emitting the created task. Fails with INVALID_ARGUMENT for a bad id, namespace or spec,
     *     ALREADY_EXISTS if the namespace has a task with that id, NOT_FOUND if the program does not exist,
     *     PERMISSION_DENIED if it cannot be executed, UNAVAILABLE once the service is closed. A failed or cancelled
     *     create leaves nothing behind: no task, pipe or runtime state.
     */
    Mono<Task> create(TaskSpec spec);

    /**
     * Finds a task of the namespace.
     *
     * @return a cold Mono emitting the task. Fails with NOT_FOUND if there is none, INVALID_ARGUMENT for a bad id.
     */
    Mono<Task> get(String id);

    /**
     * Lists the tasks of the namespace.
     *
     * @return a cold Flux of the tasks that exist at subscription, in no particular order
     */
    Flux<Task> list();

    /**
     * The lifecycle events of this service's tasks, of every namespace unless a filter says otherwise. Per task
     * they come in containerd's order: {@code /tasks/create}, {@code /tasks/start}, {@code /tasks/exit},
     * {@code /tasks/delete}; an exec's exit comes before the init's; no exit is published twice.
     *
     * @return the subscriber side of the service's event exchange
     */
    EventSubscriber events();

    /**
     * Ends every task this service owns (SIGTERM, grace period, SIGKILL, reap) and releases its resources. New
     * calls fail with UNAVAILABLE from the moment close is subscribed.
     *
     * @return a cold Mono completing when every task is gone; a second close completes at once
     */
    @Override
    Mono<Void> close();
}
