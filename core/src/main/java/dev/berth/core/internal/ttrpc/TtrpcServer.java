package dev.berth.core.internal.ttrpc;

import dev.berth.core.AsyncCloseable;
import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.internal.os.Errno;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.NettyInbound;
import reactor.netty.NettyOutbound;
import reactor.netty.tcp.TcpServer;
import reactor.util.context.ContextView;

/**
 * A ttrpc 1.1 server on a Unix socket, e.g. the events endpoint a containerd 1.6 shim forwards its events to.
 *
 * <p>Each connection is served independently. Requests on one connection run concurrently (up to 256
 * at a time; beyond that the connection is simply not read until one finishes)
 * and each reply goes out as soon as its handler completes, so replies may be out of order. The server answers as the
 * ttrpc 1.1 server of the shim does (spec §1.8): an unknown service or method gets code 12, an even stream id code 3,
 * an envelope that is not a {@code Request} code 3, a payload the handler cannot decode code 13 (INTERNAL, from
 * {@link TtrpcService#unary}), a handler's failure the code of its kind (see {@code GrpcErrors}), a request whose
 * {@code timeout_nano} passes first code 4. A handler failure never ends the connection. When a connection closes,
 * the handlers still running for it are cancelled.
 *
 * <p>Framing: frames of a type other than request (1) are skipped and the connection stays open, as the 1.6 shim
 * does (spec §1.3). A frame announcing more than 4 MiB is answered with code 8 on its stream and the connection is
 * closed (the shim would read and discard it; a peer sending that is broken, and a hostile length must cost nothing).
 * A frame cut short by end of stream is dropped with the connection. None of this affects other connections.
 *
 * <p>Nothing blocks the event loops: file checks run on {@code syscalls()}, handlers are expected not to block.
 */
public final class TtrpcServer implements AsyncCloseable {
    private static final Logger log = LoggerFactory.getLogger(TtrpcServer.class);
    /**
     * The Reactor Context key under which a handler finds the request's metadata, a {@code Map<String, String>}
     * (first value per key); read it with {@link #metadata(ContextView)}.
     */
    public static final String METADATA_KEY = "dev.berth.ttrpc.metadata";
    /** Requests served at once on one connection before the server stops reading it. */
    static final int MAX_IN_FLIGHT_PER_CONNECTION = 256;

    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int EADDRINUSE = 98;

    private final DisposableServer server;
    private final Path socket;
    private final Connections connections;
    private final Mono<Void> close;

    private TtrpcServer(DisposableServer server, Path socket, Connections connections, Scheduler syscalls) {
        this.server = server;
        this.socket = socket;
        this.connections = connections;
        // Cached so that the socket file is removed once: a later subscriber must not delete the socket of a new
        // server bound on the same path since.
        this.close = Mono.defer(this::shutdown)
                .then(Mono.fromCallable(() -> Files.deleteIfExists(socket)).subscribeOn(syscalls))
                .onErrorMap(IOException.class, e -> Errors.of(ErrorKind.UNKNOWN, e, "remove ttrpc socket %s", socket))
                .then()
                .cache();
    }

    /**
     * Binds a server on {@code socket}.
     *
     * @param socket the Unix socket path (at most 107 bytes). A socket file left behind by a server that is gone is
     *     removed first; anything else already there is not touched.
     * @param services the services by fully-qualified name, e.g. {@code containerd.services.events.ttrpc.v1.Events}
     * @param schedulers {@code syscalls()} runs the socket-file checks, {@code timer()} times requests that carry a
     *     {@code timeout_nano}
     * @return a cold Mono emitting the listening server. Fails with ALREADY_EXISTS if a server listens on the path or
     *     a non-socket file is there, INVALID_ARGUMENT if the path is too long, NOT_FOUND if its directory does not
     *     exist, PERMISSION_DENIED if it may not be created. Cancelling abandons the bind (reactor-netty closes a
     *     listener it already opened).
     */
    public static Mono<TtrpcServer> bind(Path socket, Map<String, TtrpcService> services, RuntimeSchedulers schedulers) {
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(schedulers, "schedulers");
        Map<String, TtrpcService> copy = Map.copyOf(Objects.requireNonNull(services, "services"));
        return Mono.fromRunnable(() -> removeStaleSocket(socket))
                .subscribeOn(schedulers.syscalls())
                .then(Mono.defer(() -> {
                    RequestDispatcher dispatcher = new RequestDispatcher(copy, schedulers.timer());
                    Connections connections = new Connections();
                    return TcpServer.create()
                            .bindAddress(() -> new DomainSocketAddress(socket.toString()))
                            .doOnConnection(c -> {
                                c.addHandlerLast("ttrpc-frames", FrameDecoder.forServer());
                                c.addHandlerLast("ttrpc-protocol-errors", new ServerProtocolErrors());
                                connections.add(c);
                            })
                            .handle((in, out) -> serve(in, out, dispatcher))
                            .bind()
                            .onErrorMap(e -> !(e instanceof BerthException), e -> bindFailed(socket, e))
                            .map(server -> new TtrpcServer(server, socket, connections, schedulers.syscalls()));
                }))
                .doOnNext(server -> log.debug("[{}] ttrpc server listening, services {}", socket, copy.keySet()));
    }

    /**
     * The request metadata in a handler's Context, empty when the request carried none.
     *
     * @throws IllegalStateException outside a handler of this server
     */
    @SuppressWarnings("unchecked")
    public static Map<String, String> metadata(ContextView ctx) {
        Object metadata = ctx.getOrDefault(METADATA_KEY, null);
        if (!(metadata instanceof Map<?, ?> map)) {
            throw new IllegalStateException("no ttrpc request metadata in the Context");
        }
        return (Map<String, String>) map;
    }

    /** The socket this server listens on. */
    public Path socket() {
        return socket;
    }

    /**
     * Stops listening, closes every connection (their pending requests are dropped unanswered) and removes the socket
     * file.
     *
     * @return a Mono completing when all of that is done. The work is done once and cached: later subscribers get the
     *     same outcome. Cancelling only stops the wait.
     */
    @Override
    public Mono<Void> close() {
        return close;
    }

    @Override
    public String toString() {
        return "TtrpcServer[" + socket + "]";
    }

    private Mono<Void> shutdown() {
        log.debug("[{}] closing the ttrpc server", socket);
        server.dispose();
        return Mono.when(server.onDispose(), connections.closeAll());
    }

    private static Mono<Void> serve(NettyInbound in, NettyOutbound out, RequestDispatcher dispatcher) {
        return out.sendObject(in.receiveObject()
                        .ofType(Frame.class)
                        .flatMap(dispatcher::serve, MAX_IN_FLIGHT_PER_CONNECTION, 1))
                .then();
    }

    // Blocking: runs on syscalls().
    private static void removeStaleSocket(Path socket) {
        SocketPaths.check(socket);
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if ((mode & S_IFMT) != S_IFSOCK) {
                throw Errors.alreadyExists("ttrpc socket path %s exists and is not a socket", socket);
            }
            try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                probe.configureBlocking(false);
                probe.connect(UnixDomainSocketAddress.of(socket));
                throw Errors.alreadyExists("ttrpc socket %s is in use: a server listens on it", socket);
            } catch (ConnectException refused) {
                // ECONNREFUSED: the socket file of a server that is gone.
                log.debug("[{}] removing a stale socket file nobody listens on", socket);
                Files.deleteIfExists(socket);
            }
        } catch (IOException e) {
            if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                throw Errors.of(ErrorKind.ALREADY_EXISTS, e, "ttrpc socket path %s is in use", socket);
            }
        }
    }

    private static BerthException bindFailed(Path socket, Throwable error) {
        for (Throwable c = error; c != null; c = c.getCause()) {
            if (c instanceof io.netty.channel.unix.Errors.NativeIoException nativeError) {
                int errno = Math.abs(nativeError.expectedErr());
                ErrorKind kind = errno == EADDRINUSE ? ErrorKind.ALREADY_EXISTS : Errno.kindOf(errno);
                return Errors.of(kind == ErrorKind.UNKNOWN ? ErrorKind.UNAVAILABLE : kind, error,
                        "bind ttrpc socket %s", socket);
            }
        }
        return Errors.of(ErrorKind.UNAVAILABLE, error, "bind ttrpc socket %s", socket);
    }

    /** The open connections of one server; after {@link #closeAll()} a late arrival is closed at once. */
    private static final class Connections {
        private final Set<Connection> open = ConcurrentHashMap.newKeySet();
        private final AtomicBoolean closed = new AtomicBoolean();

        void add(Connection connection) {
            open.add(connection);
            connection.onDispose(() -> open.remove(connection));
            if (closed.get()) {
                connection.dispose();
            }
        }

        Mono<Void> closeAll() {
            closed.set(true);
            return Flux.fromIterable(Set.copyOf(open))
                    .flatMap(c -> {
                        c.dispose();
                        return c.onDispose();
                    })
                    .then();
        }
    }
}
