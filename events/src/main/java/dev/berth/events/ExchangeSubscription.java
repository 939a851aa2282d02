package dev.berth.events;

import dev.berth.core.Envelope;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.SubscribeOptions;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.CoreSubscriber;
import reactor.core.Exceptions;
import reactor.core.publisher.Operators;

/**
 * One subscriber of a {@link DefaultEventExchange}: its filter, its bounded buffer and the drain loop that hands
 * buffered events to it on the events scheduler.
 *
 * <p><b>The buffer</b> is a lock-free {@link ConcurrentLinkedQueue} bounded by {@link #size}, a count of the
 * events in it that nobody has claimed yet. Publishers {@code offer} and then increment the count; whoever takes
 * events out (the drain loop, or a publisher dropping the oldest) first claims them by decrementing the count with a
 * CAS and only then polls. So the queue always holds at least {@code size} unclaimed events, a claimed poll never
 * comes back empty, and drops are counted exactly. At most {@code bufferSize} events plus one per publisher thread
 * in the middle of an offer are ever in the queue. The drain loop claims a batch (up to the demand left) with one
 * CAS. A multi-consumer queue is needed because with {@link SubscribeOptions.Overflow#DROP_OLDEST} a publisher
 * removes the oldest event itself, at once, so memory stays bounded even while the events thread is busy elsewhere.
 *
 * <p><b>Delivery</b> is the classic work-in-progress loop ({@code wip}), run by the exchange's {@link Dispatcher} on
 * the events scheduler in turns of at most {@value #TURN} events: one run at a time, honouring {@code request(n)},
 * and woken only when it may be idle and can do something (the buffer goes from empty to not empty while there is
 * demand, a request, a terminal signal), so a busy or stalled subscriber costs its publishers no task submission
 * and no {@code wip} update. Overflow with {@link SubscribeOptions.Overflow#FAIL} fails fast: the error is delivered
 * without waiting for demand, and whatever was buffered is discarded. Completion waits until the buffered events
 * are delivered.
 */
final class ExchangeSubscription implements Subscription, Runnable {
    /** The most events delivered in one turn before the other subscriptions of the exchange get theirs. */
    static final int TURN = 256;
    private static final Logger log = LoggerFactory.getLogger(ExchangeSubscription.class);

    private static final AtomicIntegerFieldUpdater<ExchangeSubscription> WIP =
            AtomicIntegerFieldUpdater.newUpdater(ExchangeSubscription.class, "wip");
    private static final AtomicIntegerFieldUpdater<ExchangeSubscription> SIZE =
            AtomicIntegerFieldUpdater.newUpdater(ExchangeSubscription.class, "size");
    private static final AtomicLongFieldUpdater<ExchangeSubscription> REQUESTED =
            AtomicLongFieldUpdater.newUpdater(ExchangeSubscription.class, "requested");
    private static final AtomicLongFieldUpdater<ExchangeSubscription> DROPPED =
            AtomicLongFieldUpdater.newUpdater(ExchangeSubscription.class, "dropped");
    private static final AtomicReferenceFieldUpdater<ExchangeSubscription, Throwable> ERROR =
            AtomicReferenceFieldUpdater.newUpdater(ExchangeSubscription.class, Throwable.class, "error");
    private static final AtomicIntegerFieldUpdater<ExchangeSubscription> CANCELLED =
            AtomicIntegerFieldUpdater.newUpdater(ExchangeSubscription.class, "cancelled");

    final EventFilter filter;
    private final CoreSubscriber<? super Envelope> actual;
    private final DefaultEventExchange exchange;
    private final Dispatcher dispatcher;
    private final int capacity;
    private final boolean dropOldest;
    private final LongConsumer onDrop;
    private final ConcurrentLinkedQueue<Envelope> queue = new ConcurrentLinkedQueue<>();

    private volatile int wip;
    private volatile int size;
    private volatile long requested;
    private volatile long dropped;
    private volatile @Nullable Throwable error;
    private volatile int cancelled;
    private volatile boolean done;
    // Only the drain loop reads and writes these (its runs are serialized by wip and the dispatcher).
    // Once terminated, the loop never runs again (wip never returns to 0).
    private boolean terminated;
    // Claimed but not yet polled; never more than the demand left, so it is back to 0 before that demand is met.
    private int claimed;

    ExchangeSubscription(CoreSubscriber<? super Envelope> actual, DefaultEventExchange exchange, EventFilter filter,
            SubscribeOptions options, Dispatcher dispatcher) {
        this.actual = actual;
        this.exchange = exchange;
        this.filter = filter;
        this.dispatcher = dispatcher;
        this.capacity = options.bufferSize();
        this.dropOldest = options.overflow() == SubscribeOptions.Overflow.DROP_OLDEST;
        this.onDrop = options.onDrop();
    }

    /** Buffers {@code envelope} for this subscriber; called on a publisher's thread, never blocks. */
    void offer(Envelope envelope) {
        if (cancelled != 0 || error != null) {
            return;
        }
        queue.offer(envelope);
        int s = SIZE.incrementAndGet(this);
        if (s > capacity) {
            if (!dropOldest) {
                fail(Errors.of(ErrorKind.RESOURCE_EXHAUSTED,
                        "event subscriber fell more than %d events behind (overflow FAIL, filter %s)",
                        capacity, filter));
                return;
            }
            dropOldest(s);
        }
        // Wake the drain loop only when it may be idle for want of events: it leaves (with demand left) only
        // after seeing size 0, so the publisher that takes size from 0 to 1 signals, and the others need not pay
        // the wip increment. Without demand it could do nothing: a later request() bumps `requested` and then
        // signals, and sees this event (both sides use sequentially consistent atomics). Drops never empty the
        // buffer (they leave `capacity` events), so they never need the wake-up either.
        if (s == 1 && requested != 0) {
            signal();
        }
    }

    // Claim one unclaimed event by CAS, then remove the oldest. A concurrent take by the drain loop may get there
    // first, leaving the buffer within bounds; then there is nothing to drop.
    private void dropOldest(int observed) {
        int s = observed;
        while (s > capacity) {
            if (SIZE.compareAndSet(this, s, s - 1)) {
                if (queue.poll() != null) {
                    long total = DROPPED.incrementAndGet(this);
                    exchange.countDrop();
                    try {
                        onDrop.accept(total);
                    } catch (RuntimeException e) {
                        log.warn("onDrop callback of event subscriber (filter {}) failed", filter, e);
                    }
                }
                return;
            }
            s = size;
        }
    }

    /** Fails this subscription with {@code e} (first failure wins) and removes it from the exchange. */
    void fail(Throwable e) {
        if (ERROR.compareAndSet(this, null, e)) {
            exchange.remove(this);
            signal();
        }
    }

    /** Completes this subscription once its buffered events are delivered; called when the exchange closes. */
    void complete() {
        done = true;
        signal();
    }

    @Override
    public void request(long n) {
        if (Operators.validate(n)) {
            Operators.addCap(REQUESTED, this, n);
            signal();
        }
    }

    @Override
    public void cancel() {
        if (CANCELLED.compareAndSet(this, 0, 1)) {
            exchange.remove(this);
            // The drain loop clears the buffer: it may be running right now, and it alone polls.
            signal();
        }
    }

    boolean isCancelled() {
        return cancelled != 0;
    }

    /** The events buffered now (for tests). */
    int buffered() {
        return size;
    }

    /** The events this subscription has lost to DROP_OLDEST so far. */
    long dropped() {
        return dropped;
    }

    private void signal() {
        if (WIP.getAndIncrement(this) == 0) {
            dispatcher.submit(this);
        }
    }

    /**
     * Ends this subscription because the events scheduler refused the drain task; called by the dispatcher, which
     * then owns this drain (wip stays above 0 for good).
     */
    void rejected(RejectedExecutionException e) {
        terminated = true;
        // Marked cancelled too, so that a subscription refused while still in onSubscribe is never registered.
        boolean wasCancelled = CANCELLED.getAndSet(this, 1) != 0;
        exchange.remove(this);
        queue.clear();
        if (!wasCancelled) {
            actual.onError(Operators.onRejectedExecution(e, actual.currentContext()));
        }
    }

    /** One turn of the drain loop, run by the {@link Dispatcher}. */
    @Override
    public void run() {
        if (terminated) {
            return;
        }
        int missed = 1;
        int budget = TURN;
        for (;;) {
            long r = requested;
            long e = 0L;
            for (;;) {
                if (cancelled != 0) {
                    terminate();
                    return;
                }
                Throwable ex = error;
                if (ex != null) {
                    terminate();
                    actual.onError(ex);
                    return;
                }
                // Read `done` before looking at the buffer: close() sets it only after every publisher that got
                // past the closed check has finished offering, so done + empty means nothing more will come.
                boolean d = done;
                if (e == r) {
                    if (d && size == 0 && claimed == 0) {
                        terminate();
                        actual.onComplete();
                        return;
                    }
                    break;
                }
                if (budget == 0) {
                    // Turn over: let the exchange's other subscriptions go first. wip stays above 0, so nobody
                    // else submits this one meanwhile; the dispatcher will run it again.
                    if (e != 0L && r != Long.MAX_VALUE) {
                        REQUESTED.addAndGet(this, -e);
                    }
                    dispatcher.submit(this);
                    return;
                }
                if (claimed == 0) {
                    claimed = claim(r - e);
                    if (claimed == 0) {
                        if (d) {
                            terminate();
                            actual.onComplete();
                            return;
                        }
                        break;
                    }
                }
                Envelope v = queue.poll();
                claimed--;
                if (v == null) {
                    // Only a terminal clear() empties the queue under a claim; the checks above end the loop.
                    continue;
                }
                try {
                    actual.onNext(v);
                } catch (Throwable t) {
                    Exceptions.throwIfFatal(t);
                    cancel();
                    terminate();
                    actual.onError(Operators.onOperatorError(this, t, v, actual.currentContext()));
                    return;
                }
                e++;
                budget--;
            }
            if (e != 0L && r != Long.MAX_VALUE) {
                REQUESTED.addAndGet(this, -e);
            }
            missed = WIP.addAndGet(this, -missed);
            if (missed == 0) {
                return;
            }
        }
    }

    // Claims up to `max` buffered events at once (one CAS for a whole batch): they are then this loop's to poll.
    private int claim(long max) {
        for (;;) {
            int s = size;
            if (s == 0) {
                return 0;
            }
            int k = (int) Math.min(s, max);
            if (SIZE.compareAndSet(this, s, s - k)) {
                return k;
            }
        }
    }

    private void terminate() {
        terminated = true;
        exchange.remove(this);
        queue.clear();
    }

    @Override
    public String toString() {
        return "ExchangeSubscription[filter=" + filter + ", buffered=" + size + "/" + capacity + ", dropped="
                + dropped + "]";
    }
}
