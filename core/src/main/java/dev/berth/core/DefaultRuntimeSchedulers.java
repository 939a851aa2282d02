package dev.berth.core;

import reactor.core.scheduler.Scheduler;

/** The schedulers of {@link RuntimeSchedulers#create}; owns and disposes what it created. */
record DefaultRuntimeSchedulers(Scheduler syscalls, Scheduler timer, Scheduler events, boolean ownsTimer)
        implements RuntimeSchedulers {

    @Override
    public void dispose() {
        syscalls.dispose();
        events.dispose();
        if (ownsTimer) {
            timer.dispose();
        }
    }

    @Override
    public boolean isDisposed() {
        return syscalls.isDisposed() && events.isDisposed();
    }
}
