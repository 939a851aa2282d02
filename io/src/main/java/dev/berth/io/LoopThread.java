package dev.berth.io;

import io.netty.util.concurrent.FastThreadLocalThread;
import reactor.core.scheduler.NonBlocking;

/** The event loop's thread: marked {@link NonBlocking} so BlockHound and Reactor refuse blocking calls on it. */
final class LoopThread extends FastThreadLocalThread implements NonBlocking {
    LoopThread(Runnable target, String name) {
        super(target, name);
        setDaemon(true);
    }
}
