package dev.berth.shims.internal.v2;

import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.os.Syscalls;
import dev.berth.events.EventExchange;
import dev.berth.shims.ShimManager;
import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/** Internal, not API: the bridge {@code dev.berth.shims.v2.ShimV2Runtime} creates its manager through. */
public final class ShimV2Managers {
    private ShimV2Managers() {
    }

    /** See {@code ShimV2Runtime.create}. */
    public static ShimManager start(Path state, RuntimeSchedulers schedulers, Syscalls syscalls,
            @Nullable Path eventsSocket, @Nullable EventExchange exchange, Duration drainTimeout, int shimsPerNamespace,
            Duration shimLinger) {
        return V2ShimManager.start(state, schedulers, syscalls, eventsSocket, exchange, drainTimeout,
                shimsPerNamespace, shimLinger);
    }
}
