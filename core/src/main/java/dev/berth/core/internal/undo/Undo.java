package dev.berth.core.internal.undo;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The undo steps of a create that is under way, run last-in first-out if it fails or is cancelled (containerd's
 * stacked {@code defer if err != nil}). Each step is timed out and its failure logged at WARN and swallowed, so an
 * undo never replaces the create's error. Thread-safe; once run, later pushes run at once.
 */
public final class Undo {
    private static final Logger log = LoggerFactory.getLogger(Undo.class);
    public static final Duration STEP_TIMEOUT = Duration.ofSeconds(10);

    private record Step(String what, Supplier<Mono<Void>> action) {
    }

    private final String owner;
    private final Scheduler timer;
    private final Deque<Step> steps = new ArrayDeque<>();
    private boolean done;

    /** The undo of {@code owner}'s create (named in log lines); step timeouts run on {@code timer}. */
    public Undo(String owner, Scheduler timer) {
        this.owner = owner;
        this.timer = timer;
    }

    /** Adds a step; after {@link #run} it runs at once, after {@link #commit} it is dropped. */
    public void push(String what, Supplier<Mono<Void>> action) {
        boolean late;
        synchronized (this) {
            late = done;
            if (!late) {
                steps.push(new Step(what, action));
            }
        }
        if (late) {
            guarded(new Step(what, action)).subscribe();
        }
    }

    /** The create succeeded: the steps' resources belong to the result now. */
    public synchronized void commit() {
        done = true;
        steps.clear();
    }

    /** @return a Mono running every step, the last pushed first; it never fails */
    public Mono<Void> run() {
        return Flux.defer(() -> {
            Deque<Step> todo;
            synchronized (this) {
                if (done) {
                    return Flux.empty();
                }
                done = true;
                todo = new ArrayDeque<>(steps);
                steps.clear();
            }
            return Flux.fromIterable(todo).concatMap(this::guarded);
        }).then();
    }

    private Mono<Void> guarded(Step step) {
        return Mono.defer(step.action())
                .timeout(STEP_TIMEOUT, timer)
                .doOnSuccess(v -> log.debug("[{}] undone: {}", owner, step.what()))
                .onErrorResume(e -> {
                    log.warn("[{}] undo step \"{}\" failed", owner, step.what(), e);
                    return Mono.empty();
                });
    }
}
