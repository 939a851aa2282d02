package dev.berth.shims.internal.v2;

import dev.berth.core.BerthException;
import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * Maps a runtime name to its shim binary as containerd does ({@code io.containerd.runc.v2} is
 * {@code containerd-shim-runc-v2}: the last two dot-separated parts name the binary) and finds it in a configured
 * directory or on a search path. The search path is the given {@code PATH} plus {@code /usr/sbin} and {@code /sbin}:
 * Debian installs runc there and some environments leave sbin off {@code PATH} (pitfall 5). The same path is what
 * the shim gets as its {@code PATH}, so that it finds {@code runc}.
 */
final class RuntimeBinaries {
    /** The name every part of a runtime name must match; rules out separators, {@code ..} and empty parts. */
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_-]+");
    private static final List<String> SBIN = List.of("/usr/sbin", "/sbin");

    private final @Nullable Path directory;
    private final List<Path> searchPath;
    private final RuntimeSchedulers schedulers;

    private RuntimeBinaries(@Nullable Path directory, List<Path> searchPath, RuntimeSchedulers schedulers) {
        this.directory = directory;
        this.searchPath = List.copyOf(searchPath);
        this.schedulers = schedulers;
    }

    /**
     * Binaries found on {@code path} (a {@code PATH} value, may be empty) plus {@code /usr/sbin:/sbin}; when
     * {@code directory} is not null, it is searched first.
     */
    static RuntimeBinaries create(@Nullable Path directory, String path, RuntimeSchedulers schedulers) {
        Objects.requireNonNull(path, "path");
        Set<String> entries = new LinkedHashSet<>();
        if (directory != null) {
            entries.add(directory.toAbsolutePath().normalize().toString());
        }
        for (String entry : path.split(":")) {
            // An empty PATH entry means the cwd in a shell; a shim resolving binaries against its bundle is never
            // what is meant, so empty and relative entries are dropped.
            if (entry.startsWith("/")) {
                entries.add(entry);
            }
        }
        entries.addAll(SBIN);
        List<Path> dirs = new ArrayList<>();
        entries.forEach(e -> dirs.add(Path.of(e)));
        return new RuntimeBinaries(directory, dirs, Objects.requireNonNull(schedulers, "schedulers"));
    }

    /** Binaries found on this JVM's {@code PATH} plus {@code /usr/sbin:/sbin}. */
    static RuntimeBinaries fromEnvironment(RuntimeSchedulers schedulers) {
        String path = System.getenv("PATH");
        return create(null, path == null ? "" : path, schedulers);
    }

    /**
     * The binary name for {@code runtime}: {@code io.containerd.<name>.<version>} gives
     * {@code containerd-shim-<name>-<version>}.
     *
     * @throws BerthException INVALID_ARGUMENT unless {@code runtime} has at least three non-empty dot-separated
     *     parts made of letters, digits, {@code _} and {@code -} (so no path separator)
     */
    static String binaryName(String runtime) {
        Objects.requireNonNull(runtime, "runtime");
        if (runtime.indexOf('/') >= 0) {
            throw Errors.invalidArgument("runtime name \"%s\" must not contain a path separator", runtime);
        }
        String[] parts = runtime.split("\\.", -1);
        if (parts.length < 3) {
            throw Errors.invalidArgument("runtime name \"%s\" is not of the form io.containerd.<name>.<version>",
                    runtime);
        }
        for (String part : parts) {
            if (!PART.matcher(part).matches()) {
                throw Errors.invalidArgument("runtime name \"%s\" has an invalid part \"%s\"", runtime, part);
            }
        }
        return "containerd-shim-" + parts[parts.length - 2] + "-" + parts[parts.length - 1];
    }

    /** The directories searched, in order, as a {@code PATH} value; the shim gets this as its {@code PATH}. */
    String shimPath() {
        return String.join(":", searchPath.stream().map(Path::toString).toList());
    }

    /** The configured directory, if any. */
    @Nullable Path directory() {
        return directory;
    }

    /**
     * Finds the shim binary for {@code runtime}. Stats files, so it blocks.
     *
     * @throws BerthException INVALID_ARGUMENT for a bad name (see {@link #binaryName}), NOT_FOUND if no
     *     executable of that name is in the search path
     */
    Path resolveNow(String runtime) {
        String name = binaryName(runtime);
        for (Path dir : searchPath) {
            Path candidate;
            try {
                candidate = dir.resolve(name);
            } catch (InvalidPathException e) {
                continue;
            }
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        throw Errors.notFound("shim binary %s for runtime %s not found in %s", name, runtime, shimPath());
    }

    /**
     * Finds the shim binary for {@code runtime}.
     *
     * @return a cold Mono emitting the binary's path, on {@code syscalls()}; fails with INVALID_ARGUMENT for a bad
     *     name or NOT_FOUND if there is no such binary. Nothing is created either way.
     */
    Mono<Path> resolve(String runtime) {
        return Mono.fromCallable(() -> resolveNow(runtime)).subscribeOn(schedulers.syscalls());
    }
}
