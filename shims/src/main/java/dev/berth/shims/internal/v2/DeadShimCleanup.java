package dev.berth.shims.internal.v2;

import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.shims.internal.v2.proto.DeleteResponse;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Cleans up after a shim daemon that is dead (spec §3.5, as containerd does when a shim's connection drops): the
 * binary's {@code delete} action ({@code runc delete --force}, unmount of {@code <bundle>/rootfs}), then the shim's
 * socket (a SIGKILLed shim leaves it, §3.3) and the bundle. It sends no event: the caller synthesizes the exit.
 *
 * <p>Used by {@link V2Shim} when its connection drops, and usable as a whole ({@link #clean}) for a bundle whose shim
 * is already dead and that no {@link V2Shim} owns (a restore). A bundle that never had a successful Create has no
 * {@code runtime} file, so no runc container can exist: the {@code delete} action, which would fail there, is not
 * run. A normal delete (Delete, Shutdown) runs no {@code delete} action either, so it pays for no extra process; it
 * only shares {@link #remove}. {@link #deleteActions()} counts the actions run, so tests can prove that.
 */
final class DeadShimCleanup {
    private static final Logger log = LoggerFactory.getLogger(DeadShimCleanup.class);
    /** How long removing the socket and the bundle may take. */
    static final Duration REMOVE_TIMEOUT = Duration.ofSeconds(10);

    /** Waits for a shim daemon to be gone: a pid and who it served, for the logs. */
    interface ShimExit {
        Mono<Void> await(int pid, String who);
    }

    private final Bundles bundles;
    private final RuntimeSchedulers schedulers;
    private final ShimExit shimExit;
    private final AtomicLong deleteActions = new AtomicLong();

    DeadShimCleanup(Bundles bundles, RuntimeSchedulers schedulers, ShimExit shimExit) {
        this.bundles = Objects.requireNonNull(bundles, "bundles");
        this.schedulers = Objects.requireNonNull(schedulers, "schedulers");
        this.shimExit = Objects.requireNonNull(shimExit, "shimExit");
    }

    /**
     * After the connection to a live task's shim dropped without Shutdown (spec §3.5, as containerd does): make
     * sure the daemon is gone (the drop could come from one still alive), run the binary's {@code delete} action,
     * then {@code closeOurEnds} (our FIFO readers, stdin writers, log drain), then remove the socket and the
     * bundle. A failed delete action is logged and keeps the bundle, so that a restore can try again; the socket
     * goes anyway.
     *
     * @return a cold Mono completing when done; it never fails (each failure is logged at WARN)
     */
    Mono<Void> afterLoss(Bundle bundle, ShimStart shimStart, Path socket, int shimPid, Mono<Void> closeOurEnds) {
        String who = bundle.namespace() + "/" + bundle.id();
        return killIfAlive(shimPid, who)
                .then(stopOrphan(bundle))
                .then(deleteAction(bundle, shimStart)
                        .thenReturn(true)
                        .onErrorResume(e -> {
                            log.warn("[{}] delete action after the shim's loss failed: bundle kept", who, e);
                            return Mono.just(false);
                        }))
                .flatMap(deleted -> closeOurEnds
                        .then(deleted ? remove(bundle, socket) : removeSocket(socket))
                        .onErrorResume(e -> {
                            log.warn("[{}] removing the lost shim's files failed", who, e);
                            return Mono.empty();
                        }));
    }

    /**
     * The daemon is not our child (pitfall 23): SIGKILL it if it is still there, and wait for it. Only a live shim
     * process is killed and waited for: a pid already reused by anything else is left alone.
     *
     * @return a cold Mono completing once the daemon is gone; never fails (logged at WARN)
     */
    Mono<Void> killIfAlive(int shimPid, String who) {
        if (shimPid <= 0) {
            return Mono.empty();
        }
        return Mono.fromCallable(() -> ProcessHandle.of(shimPid)
                        .filter(h -> h.info().command()
                                .map(c -> Path.of(c).getFileName().toString().startsWith("containerd-shim"))
                                .orElse(false))
                        .map(h -> {
                            log.warn("[{}] shim pid {} still runs after dropping us: SIGKILL", who, shimPid);
                            return h.destroyForcibly();
                        })
                        .orElse(false))
                .subscribeOn(schedulers.syscalls())
                .flatMap(killed -> killed ? shimExit.await(shimPid, who) : Mono.<Void>empty())
                .onErrorResume(e -> {
                    log.warn("[{}] shim pid {} not seen gone", who, shimPid, e);
                    return Mono.empty();
                });
    }

    /**
     * Cleans up the bundle of a dead shim: the {@code delete} action when the task was ever created, then the socket
     * named by {@code <bundle>/address}, then the bundle. Idempotent: a missing bundle completes at once.
     *
     * @param namespace the task's namespace; must be the bundle's
     * @param bundle the task's bundle
     * @param shimStart runs the shim binary the task was created with
     * @return a cold Mono completing when the runc container, the socket and the bundle are gone. Fails with
     *     INVALID_ARGUMENT for a namespace that is not the bundle's, or with the {@code delete} action's error
     *     (INTERNAL, DEADLINE_EXCEEDED, UNAVAILABLE); the bundle is then kept, so that the cleanup can be tried
     *     again. Cancelling stops waiting; a started action finishes.
     */
    Mono<Void> clean(String namespace, Bundle bundle, ShimStart shimStart) {
        return Mono.defer(() -> {
            if (!bundle.namespace().equals(namespace)) {
                return Mono.error(Errors.invalidArgument("bundle %s is not in namespace %s", bundle.path(),
                        namespace));
            }
            return socketOf(bundle)
                    .map(Optional::of)
                    .defaultIfEmpty(Optional.empty())
                    .flatMap(socket -> deleteAction(bundle, shimStart)
                            .then(stopOrphan(bundle))
                            .then(remove(bundle, socket.orElse(null))));
        });
    }

    /** The task's stdio sleeper, re-parented when its shim died (see {@link StdoutHandoff#stopOrphanNow}). */
    private Mono<Void> stopOrphan(Bundle bundle) {
        return Mono.<Void>fromRunnable(() -> StdoutHandoff.stopOrphanNow(bundle)).subscribeOn(schedulers.syscalls());
    }

    /**
     * Runs the binary's {@code delete} action if {@code <bundle>/runtime} exists (a Create got that far).
     *
     * @return a cold Mono completing when the runc container is gone; fails as {@link ShimStart#delete} does
     */
    Mono<Void> deleteAction(Bundle bundle, ShimStart shimStart) {
        return Mono.fromCallable(() -> Files.exists(bundle.path().resolve("runtime"), LinkOption.NOFOLLOW_LINKS))
                .subscribeOn(schedulers.syscalls())
                .flatMap(created -> {
                    if (!created) {
                        log.debug("[{}/{}] never created: no delete action", bundle.namespace(), bundle.id());
                        return Mono.empty();
                    }
                    return Mono.fromRunnable(deleteActions::incrementAndGet)
                            .then(shimStart.delete(bundle))
                            .doOnNext(out -> log.debug("[{}/{}] delete action done: {}", bundle.namespace(),
                                    bundle.id(), describe(out)))
                            .then();
                });
    }

    /**
     * The shim's socket as {@code <bundle>/address} names it.
     *
     * @return a cold Mono of the path, empty when there is no address file; on {@code syscalls()}. INTERNAL for an
     *     address that is not a unix socket path.
     */
    Mono<Path> socketOf(Bundle bundle) {
        return Mono.fromCallable(() -> {
            try {
                return Path.of(ShimStart.parseAddress(Files.readString(bundle.address())));
            } catch (NoSuchFileException e) {
                return null;
            } catch (IOException e) {
                throw Bundles.ioError(e, "read %s", bundle.address());
            }
        }).subscribeOn(schedulers.syscalls());
    }

    /**
     * Removes the shim's socket (only if it is a socket, never following a link) and then the bundle.
     *
     * @return a cold Mono completing when both are gone, on {@code syscalls()}; DEADLINE_EXCEEDED after
     *     {@link #REMOVE_TIMEOUT}
     */
    Mono<Void> remove(Bundle bundle, @Nullable Path socket) {
        return removeSocket(socket)
                .then(bundles.remove(bundle))
                .timeout(REMOVE_TIMEOUT, Mono.error(() -> Errors.deadlineExceeded("removing %s took over %s",
                        bundle.path(), REMOVE_TIMEOUT)), schedulers.timer())
                .doOnSuccess(v -> log.debug("[{}/{}] bundle and socket removed", bundle.namespace(), bundle.id()));
    }

    /** Removes a shim socket left behind, if it is one; a missing path is fine. On {@code syscalls()}. */
    Mono<Void> removeSocket(@Nullable Path socket) {
        if (socket == null) {
            return Mono.empty();
        }
        return Mono.<Void>fromRunnable(() -> {
            try {
                PosixFileAttributes attributes = Files.readAttributes(socket, PosixFileAttributes.class,
                        LinkOption.NOFOLLOW_LINKS);
                if (!attributes.isOther()) {
                    log.warn("shim address {} is not a socket: left alone", socket);
                    return;
                }
                Files.deleteIfExists(socket);
            } catch (NoSuchFileException e) {
                // removed by the shim's clean exit, or by an earlier cleanup
            } catch (IOException e) {
                throw Bundles.ioError(e, "remove shim socket %s", socket);
            }
        }).subscribeOn(schedulers.syscalls());
    }

    /** How many {@code delete} actions this cleanup ran; tests prove with it that a normal delete runs none. */
    long deleteActions() {
        return deleteActions.get();
    }

    private static String describe(byte[] out) {
        try {
            DeleteResponse response = DeleteResponse.parseFrom(out);
            return "init pid " + response.getPid() + ", status " + response.getExitStatus() + " (always 137)";
        } catch (InvalidProtocolBufferException e) {
            return out.length + " bytes that are not a DeleteResponse";
        }
    }
}
