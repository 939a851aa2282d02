package dev.berth.events;

import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import reactor.core.scheduler.Scheduler;
import reactor.util.concurrent.Queues;

/**
 * Runs the drain loops of one exchange's subscriptions on the events scheduler, as one task for all of them.
 *
 * <p>An event that fans out to 16 idle subscribers wakes the events thread once, not 16 times: each subscription
 * whose drain loop has work puts itself in {@link #ready} (at most once: it does so only when its own {@code wip}
 * leaves 0, and it is not put back before its loop ends or yields), and one task polls them in turn. So the ready
 * queue never holds more entries than there are subscriptions. A subscription delivers at most
 * {@link ExchangeSubscription#TURN} events per turn and then goes to the back of the queue, and this task gives the
 * thread back after {@link #TURNS} turns, so neither a busy subscriber nor a busy exchange monopolises the events
 * thread. Runs are serialized by {@link #wip}; successive runs may land on different threads of the scheduler.
 *
 * <p>Once the events scheduler is disposed, submitting fails the subscriptions with the scheduler's rejection. A
 * task already queued when it is disposed is dropped by the scheduler, as for any Reactor operator, and the
 * subscriptions waiting on it then hang: dispose the schedulers after closing the exchange.
 */
final class Dispatcher implements Runnable {
    /** Turns per task before the task reschedules itself and lets the scheduler run other work. */
    static final int TURNS = 64;

    private static final AtomicIntegerFieldUpdater<Dispatcher> WIP =
            AtomicIntegerFieldUpdater.newUpdater(Dispatcher.class, "wip");

    private final Scheduler scheduler;
    private final Queue<ExchangeSubscription> ready = Queues.<ExchangeSubscription>unboundedMultiproducer().get();
    private volatile int wip;

    Dispatcher(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    /** Queues {@code sub}'s drain loop; the caller owns {@code sub}'s drain (its wip left 0, or it is yielding). */
    void submit(ExchangeSubscription sub) {
        ready.offer(sub);
        if (WIP.getAndIncrement(this) == 0) {
            schedule();
        }
    }

    private void schedule() {
        try {
            scheduler.schedule(this);
        } catch (RejectedExecutionException e) {
            // The events scheduler is disposed: nothing can deliver anymore. We own the queue (wip > 0), so end
            // every queued subscription here, on the caller's thread, and let wip return to 0 so that later
            // submits come here too.
            int missed = 1;
            for (;;) {
                ExchangeSubscription sub;
                while ((sub = ready.poll()) != null) {
                    sub.rejected(e);
                }
                missed = WIP.addAndGet(this, -missed);
                if (missed == 0) {
                    return;
                }
            }
        }
    }

    @Override
    public void run() {
        int missed = 1;
        int turns = TURNS;
        for (;;) {
            ExchangeSubscription sub;
            while ((sub = ready.poll()) != null) {
                sub.run();
                if (--turns == 0 && !ready.isEmpty()) {
                    // Give the thread back without letting wip return to 0: this task alone drains `ready`.
                    schedule();
                    return;
                }
            }
            missed = WIP.addAndGet(this, -missed);
            if (missed == 0) {
                return;
            }
        }
    }
}
