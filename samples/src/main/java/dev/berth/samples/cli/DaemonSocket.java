package dev.berth.samples.cli;

import dev.berth.Berth;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.TaskService;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The service for {@code --containerd SOCKET}. {@link Berth#containerd(Path)} connects only on the first call, so a
 * wrong path would surface as some command's UNAVAILABLE; this checks first that something listens on the socket,
 * so that the command fails naming it (the messages here leave the socket to the caller's, see
 * {@link Session#explain}). Blocks on the calling thread, as only the command line does.
 */
final class DaemonSocket {
    private DaemonSocket() {
    }

    /**
     * @return the service over the daemon on {@code socket}
     * @throws dev.berth.core.BerthException UNAVAILABLE when nothing listens on {@code socket} (no such file, not a
     *     socket, connection refused, no access to it)
     */
    static TaskService open(Path socket) {
        probe(socket);
        return Berth.containerd(socket);
    }

    /** Connects to {@code socket} and hangs up. */
    static void probe(Path socket) {
        if (!Files.exists(socket)) {
            // The caller's message names the socket (Session.explain).
            throw Errors.unavailable("no such socket (is containerd running? its socket is the [grpc] address of "
                    + "its config)");
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException | UnsupportedOperationException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            throw Errors.of(ErrorKind.UNAVAILABLE, e, "the daemon does not answer: %s", why);
        }
    }
}
