package dev.berth.tasks.remote;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The undo steps of one create, run newest first when it fails or is cancelled (as containerd stacks its
 * {@code defer if err != nil} cleanups). Each step has a timeout; a failing step is logged at WARN and skipped, so
 * it never masks the create's own error. {@link #commit()} drops them: the new task owns everything.
 */
final class Undo {
    private static final Logger log = LoggerFactory.getLogger(Undo.class);
    static final Duration STEP_TIMEOUT = Duration.ofSeconds(10);

    private final String who;
    private final Scheduler timer;
    private final Deque<Step> steps = new ArrayDeque<>();
    private boolean done;

    Undo(String who, Scheduler timer) {
        this.who = who;
        this.timer = timer;
    }

    private record Step(String what, Supplier<Mono<Void>> action) {
    }

    synchronized void push(String what, Supplier<Mono<Void>> action) {
        steps.push(new Step(what, action));
    }

    synchronized void commit() {
        done = true;
        steps.clear();
    }

    /** Runs the steps once, newest first; later calls complete at once. */
    Mono<Void> run() {
        return Mono.defer(() -> {
            Deque<Step> todo;
            synchronized (this) {
                if (done) {
                    return Mono.empty();
                }
                done = true;
                todo = new ArrayDeque<>(steps);
                steps.clear();
            }
            Mono<Void> chain = Mono.empty();
            for (Step step : todo) {
                chain = chain.then(Mono.defer(step.action())
                        .timeout(STEP_TIMEOUT, timer)
                        .onErrorResume(e -> {
                            log.warn("[{}] undo step '{}' failed", who, step.what(), e);
                            return Mono.empty();
                        }));
            }
            return chain;
        });
    }
}
