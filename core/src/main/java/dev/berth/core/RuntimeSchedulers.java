package dev.berth.core;

import java.util.Objects;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The schedulers Berth's components run on, injected so tests can swap the timer for a virtual one. Library code
 * never uses the global {@link Schedulers}.
 */
public interface RuntimeSchedulers extends Disposable {
    /**
     * Default cap of threads for blocking system calls: spawns and file checks are short, so a few threads serve
     * thousands of tasks, and the runtime's whole thread budget stays small.
     */
    int DEFAULT_SYSCALL_THREADS = 8;

    /** A bounded elastic scheduler for blocking system calls, file operations and spawns. */
    Scheduler syscalls();

    /** The scheduler behind {@code timeout}, {@code delay} and retries. */
    Scheduler timer();

    /** A non-blocking scheduler where events are delivered. */
    Scheduler events();

    /** Fresh schedulers whose thread names start with {@code name}; dispose them when done. */
    static RuntimeSchedulers create(String name) {
        Objects.requireNonNull(name, "name");
        return new DefaultRuntimeSchedulers(
                Schedulers.newBoundedElastic(DEFAULT_SYSCALL_THREADS, 100_000, name + "-syscalls", 30, true),
                Schedulers.newSingle(name + "-timer", true),
                Schedulers.newParallel(name + "-events", 1, true),
                true);
    }

    /**
     * Schedulers for tests: {@code timer} (typically a {@code VirtualTimeScheduler}) drives time, the others are
     * real. The timer is not disposed with the result.
     */
    static RuntimeSchedulers forTesting(Scheduler timer) {
        return new DefaultRuntimeSchedulers(
                Schedulers.newBoundedElastic(DEFAULT_SYSCALL_THREADS, 100_000, "berth-test-syscalls", 30, true),
                timer,
                Schedulers.newParallel("berth-test-events", 1, true),
                false);
    }
}
