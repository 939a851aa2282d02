package dev.berth.core.internal.ttrpc;

import dev.berth.core.Errors;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** The Unix socket path limit, checked up front so a long path fails typed rather than deep inside Netty. */
final class SocketPaths {
    /** Linux {@code sun_path} holds 108 bytes including the terminating NUL. */
    static final int MAX_BYTES = 107;

    private SocketPaths() {
    }

    /** @throws dev.berth.core.BerthException INVALID_ARGUMENT if the path does not fit in a Unix socket address */
    static void check(Path socket) {
        int bytes = socket.toString().getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_BYTES) {
            throw Errors.invalidArgument("socket path %s is %d bytes, more than the %d a Unix socket allows", socket,
                    bytes, MAX_BYTES);
        }
    }
}
