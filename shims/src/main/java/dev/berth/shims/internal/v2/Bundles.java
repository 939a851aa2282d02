package dev.berth.shims.internal.v2;

import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.Identifiers;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.TaskSpec;
import dev.berth.core.oci.OciSpecs;
import dev.berth.core.oci.Spec;
import dev.berth.core.os.Syscalls;
import dev.berth.core.os.Syscalls.OpenFlags;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Creates and removes bundle directories under {@code <state>/<namespace>/<id>}: {@code config.json} from the
 * task spec, the {@code log} FIFO, a {@code work} directory and stdio FIFOs. All of it is blocking file work, so
 * every operation is a cold Mono that runs on {@code syscalls()}. A create that fails part-way removes what it
 * made before the error is emitted; the undo of a whole bundle is {@link #remove}.
 */
final class Bundles {
    private static final Logger log = LoggerFactory.getLogger(Bundles.class);
    /** containerd makes the log FIFO 0700; the stdio FIFOs are private to root. */
    static final int LOG_MODE = 0700;
    static final int FIFO_MODE = 0600;

    private final Path state;
    private final Syscalls sys;
    private final RuntimeSchedulers schedulers;

    Bundles(Path state, Syscalls sys, RuntimeSchedulers schedulers) {
        this.state = Objects.requireNonNull(state, "state").toAbsolutePath().normalize();
        this.sys = Objects.requireNonNull(sys, "sys");
        this.schedulers = Objects.requireNonNull(schedulers, "schedulers");
    }

    /** The state directory bundles live under. */
    Path state() {
        return state;
    }

    /** Where the bundle of {@code namespace}/{@code id} is, whether or not it exists. */
    Bundle locate(String namespace, String id) {
        return new Bundle(namespace, id, state.resolve(Identifiers.validate("namespace", namespace))
                .resolve(Identifiers.validate("task id", id)));
    }

    /**
     * Where the home of the pooled shim daemon {@code name} of {@code namespace} is:
     * {@code <state>/.shims/<namespace>/<name>} (see {@link ShimPool}).
     */
    Bundle locateHome(String namespace, String name) {
        return new Bundle(namespace, name, ShimPool.homes(state).resolve(Identifiers.validate("namespace", namespace))
                .resolve(Identifiers.validate("shim name", name)));
    }

    /**
     * Creates a pooled daemon's home: the directory (0700), a {@code config.json} without annotations (the
     * {@code start} action reads it for grouping annotations, and fails without it) and the {@code log} FIFO the
     * daemon logs to.
     *
     * @return a cold Mono completing when made, on {@code syscalls()}; a failure removes what it made first
     */
    Mono<Void> createHome(Bundle home) {
        return Mono.<Void>fromRunnable(() -> {
            try {
                Files.createDirectories(home.path().getParent(),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                Files.createDirectory(home.path(),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (IOException e) {
                throw ioError(e, "create shim home %s", home.path());
            }
            try {
                Files.writeString(home.config(), "{}");
                sys.mkfifo(home.log().toString(), LOG_MODE);
            } catch (IOException | RuntimeException e) {
                RuntimeException failure = e instanceof IOException io ? ioError(io, "fill shim home %s",
                        home.path()) : (RuntimeException) e;
                try {
                    removeNow(home.path());
                } catch (RuntimeException undo) {
                    failure.addSuppressed(undo);
                }
                throw failure;
            }
        }).subscribeOn(schedulers.syscalls());
    }

    /**
     * Records in {@code bundle} which daemon serves its task ({@code address}, as the {@code start} action writes
     * it: {@code unix://} and the socket path, no newline), for a restore and for the {@code delete} action.
     *
     * @return a cold Mono completing when written, on {@code syscalls()}
     */
    Mono<Void> writeAddress(Bundle bundle, Path socket) {
        return Mono.<Void>fromRunnable(() -> writeAddressNow(bundle, socket)).subscribeOn(schedulers.syscalls());
    }

    /** {@link #writeAddress}, blocking: call it on {@code syscalls()}. */
    void writeAddressNow(Bundle bundle, Path socket) {
        try {
            Files.writeString(bundle.address(), ShimStart.UNIX_SCHEME + socket);
        } catch (IOException e) {
            throw ioError(e, "write %s", bundle.address());
        }
    }

    /**
     * Creates the bundle of {@code spec} in {@code namespace}: the directory (0700), {@code config.json} from
     * {@link Spec#defaults} with the absolute rootfs, the spec's args and env and its cwd ({@code /} by default),
     * and the {@code work} directory. (No {@code log} FIFO: the daemon serving the task logs into its own home.)
     *
     * @return a cold Mono emitting the bundle, on {@code syscalls()}. Fails with INVALID_ARGUMENT for an invalid
     *     spec or one without a rootfs, NOT_FOUND if the rootfs is not a directory, ALREADY_EXISTS if the bundle
     *     directory exists (it is left alone). On any failure after the directory was made, the directory is removed
     *     before the error is emitted. Cancelling lets a started create finish; the caller's undo then removes it.
     */
    Mono<Bundle> create(String namespace, TaskSpec spec) {
        return Mono.fromCallable(() -> createNow(namespace, spec)).subscribeOn(schedulers.syscalls());
    }

    /**
     * Opens the bundle's {@code log} FIFO {@code O_RDWR | O_NONBLOCK}, as containerd does before {@code start}: the
     * open never blocks, the shim's blocking write-open then succeeds, and reads never see EOF. The caller owns the
     * descriptor, must keep draining it for the shim's life and closes it with {@link Syscalls#close}.
     *
     * @return a cold Mono emitting the descriptor, on {@code syscalls()}; NOT_FOUND if there is no log FIFO
     */
    Mono<Integer> openLog(Bundle bundle) {
        return Mono.fromCallable(() -> sys.open(bundle.log().toString(), OpenFlags.O_RDWR | OpenFlags.O_NONBLOCK, 0))
                .subscribeOn(schedulers.syscalls());
    }

    /**
     * Creates the stdio FIFOs (0600) of the process {@code execId} in {@code bundle}.
     *
     * @return a cold Mono emitting their paths, on {@code syscalls()}; ALREADY_EXISTS if one exists (those made by
     *     this call are removed first), INVALID_ARGUMENT for a bad exec id
     */
    Mono<StdioFifos> createFifos(Bundle bundle, String execId, boolean stdin) {
        return Mono.fromCallable(() -> {
            StdioFifos fifos = bundle.fifos(execId, stdin);
            List<Path> all = fifos.all();
            for (int i = 0; i < all.size(); i++) {
                try {
                    sys.mkfifo(all.get(i).toString(), FIFO_MODE);
                } catch (RuntimeException e) {
                    for (Path made : all.subList(0, i)) {
                        deleteQuietly(made, e);
                    }
                    throw e;
                }
            }
            return fifos;
        }).subscribeOn(schedulers.syscalls());
    }

    /**
     * Removes the stdio FIFOs of one process.
     *
     * @return a cold Mono completing when they are gone, on {@code syscalls()}; missing ones are fine
     */
    Mono<Void> removeFifos(StdioFifos fifos) {
        return Mono.<Void>fromRunnable(() -> {
            for (Path fifo : fifos.all()) {
                try {
                    Files.deleteIfExists(fifo);
                } catch (IOException e) {
                    throw ioError(e, "remove %s", fifo);
                }
            }
        }).subscribeOn(schedulers.syscalls());
    }

    /**
     * Removes the bundle and everything in it. As containerd does, it is first renamed to {@code .<id>}, so a
     * half-removed bundle is never mistaken for a live one. Symlinks are removed, never followed.
     *
     * @return a cold Mono completing when the bundle is gone, on {@code syscalls()}; completes at once if there is
     *     no bundle. Cancelling lets a started removal finish.
     */
    Mono<Void> remove(Bundle bundle) {
        return Mono.<Void>fromRunnable(() -> removeNow(bundle.path())).subscribeOn(schedulers.syscalls());
    }

    private Bundle createNow(String namespace, TaskSpec spec) {
        spec.validate();
        Bundle bundle = locate(namespace, spec.id());
        if (spec.rootfs() == null) {
            throw Errors.invalidArgument("task %s has no rootfs; a v2 shim runs containers only", spec.id());
        }
        Path rootfs = spec.rootfs().toAbsolutePath().normalize();
        if (!Files.isDirectory(rootfs)) {
            throw Errors.notFound("rootfs %s of task %s is not a directory", rootfs, spec.id());
        }
        String cwd = spec.process().cwd() == null ? "/" : spec.process().cwd();
        String json = OciSpecs.toJson(Spec.defaults(namespace, spec.id(), rootfs, spec.process().args(),
                spec.process().env(), cwd));
        try {
            Files.createDirectories(bundle.path().getParent(),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.createDirectory(bundle.path(),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw ioError(e, "create bundle %s", bundle.path());
        }
        // From here the directory is ours: undo it on any failure.
        try {
            Files.writeString(bundle.config(), json);
            Files.createDirectory(bundle.work());
            log.debug("[{}/{}] bundle created at {}", namespace, spec.id(), bundle.path());
            return bundle;
        } catch (IOException | RuntimeException e) {
            RuntimeException failure = e instanceof IOException io ? ioError(io, "fill bundle %s", bundle.path())
                    : (RuntimeException) e;
            try {
                removeNow(bundle.path());
            } catch (RuntimeException undo) {
                failure.addSuppressed(undo);
            }
            throw failure;
        }
    }

    private void removeNow(Path path) {
        Path doomed = path.resolveSibling("." + path.getFileName());
        try {
            removeTree(doomed);
            Files.move(path, doomed, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw ioError(e, "remove bundle %s", path);
        }
        removeTree(doomed);
    }

    private static void removeTree(Path root) {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        // Files.walk does not follow symlinks, so a work symlink is removed, never its target.
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            IOException io = e instanceof IOException x ? x : ((java.io.UncheckedIOException) e).getCause();
            throw ioError(io, "remove %s", root);
        }
    }

    private static void deleteQuietly(Path path, Throwable primary) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            primary.addSuppressed(e);
        }
    }

    static BerthException ioError(IOException e, String format, Object... args) {
        ErrorKind kind;
        if (e instanceof FileAlreadyExistsException) {
            kind = ErrorKind.ALREADY_EXISTS;
        } else if (e instanceof NoSuchFileException) {
            kind = ErrorKind.NOT_FOUND;
        } else if (e instanceof AccessDeniedException) {
            kind = ErrorKind.PERMISSION_DENIED;
        } else if (e instanceof DirectoryNotEmptyException) {
            kind = ErrorKind.FAILED_PRECONDITION;
        } else {
            kind = ErrorKind.INTERNAL;
        }
        Object[] all = java.util.Arrays.copyOf(args, args.length + 1);
        all[args.length] = e;
        return Errors.of(kind, e, format + ": %s", all);
    }
}
