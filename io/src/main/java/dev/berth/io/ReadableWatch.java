package dev.berth.io;

import io.netty.channel.IoRegistration;
import org.jspecify.annotations.Nullable;

/** Fires once when a descriptor becomes readable, then unregisters; never closes the descriptor. Loop thread only. */
final class ReadableWatch {
    private final Runnable onReadable;
    private @Nullable IoRegistration registration;
    private boolean done;

    ReadableWatch(Runnable onReadable) {
        this.onReadable = onReadable;
    }

    void attached(IoRegistration registration) {
        this.registration = registration;
        if (done) {
            registration.cancel();
        }
    }

    void onReadable() {
        if (!done) {
            done = true;
            if (registration != null) {
                registration.cancel();
            }
            onReadable.run();
        }
    }

    void cancel() {
        done = true;
        if (registration != null) {
            registration.cancel();
        }
    }
}
