package dev.berth.shims.internal.v2;

import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Runs a v2 shim binary's {@code start} and {@code delete} actions exactly as containerd 1.6.20 does (spec §3.2,
 * §3.5): flags before the action word (pitfall 3), cwd the bundle, stdin from {@code /dev/null} (pitfall 1), the
 * environment plus {@code TTRPC_ADDRESS}, {@code GOMAXPROCS=2} and a {@code PATH} that finds runc (pitfall 5).
 *
 * <p>{@code -address} is only hashed into the shim's socket name, never dialled. Berth passes its own state
 * directory there ({@link #privateAddress}) so that its sockets never collide with, or silently attach to, the
 * shims of a real containerd (pitfall 6).
 */
final class ShimStart {
    private static final Logger log = LoggerFactory.getLogger(ShimStart.class);
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    static final Duration KILL_TIMEOUT = Duration.ofSeconds(5);
    static final String UNIX_SCHEME = "unix://";
    private static final File DEV_NULL = new File("/dev/null");
    private static final Object CANCELLED = new Object();

    /**
     * What every invocation of one shim binary shares.
     *
     * @param binary the shim binary
     * @param address the {@code -address} flag, see {@link #privateAddress}
     * @param ttrpcAddress the events socket path, passed as {@code TTRPC_ADDRESS}
     * @param path the shim's {@code PATH}; must contain runc's directory
     * @param environment the environment the shim inherits before Berth's variables are set (containerd passes its
     *     own)
     * @param publishBinary the {@code -publish-binary} flag; unused by 1.6 shims
     * @param debug whether to pass {@code -debug}
     * @param timeout how long one action may take before it is killed
     */
    record Config(Path binary, String address, String ttrpcAddress, String path, Map<String, String> environment,
            String publishBinary, boolean debug, Duration timeout) {
        Config {
            Objects.requireNonNull(binary, "binary");
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(ttrpcAddress, "ttrpcAddress");
            Objects.requireNonNull(path, "path");
            environment = Map.copyOf(Objects.requireNonNull(environment, "environment"));
            Objects.requireNonNull(publishBinary, "publishBinary");
            Objects.requireNonNull(timeout, "timeout");
        }

        /** A config with the JVM's environment, no publish binary, no {@code -debug} and the default timeout. */
        static Config of(Path binary, Path state, String ttrpcAddress, String path) {
            return new Config(binary, privateAddress(state), ttrpcAddress, path, System.getenv(), "", false,
                    DEFAULT_TIMEOUT);
        }
    }

    /** The output of a finished action. */
    private record Output(byte[] stdout, String stderr, int exit) {
    }

    private final Config config;
    private final RuntimeSchedulers schedulers;

    ShimStart(Config config, RuntimeSchedulers schedulers) {
        this.config = Objects.requireNonNull(config, "config");
        this.schedulers = Objects.requireNonNull(schedulers, "schedulers");
    }

    /**
     * The {@code -address} Berth passes for {@code state}: its absolute path. A real containerd passes its gRPC
     * socket ({@code /run/containerd/containerd.sock}), so the hashed socket names differ from containerd's and
     * between Berth state directories.
     */
    static String privateAddress(Path state) {
        return state.toAbsolutePath().normalize().toString();
    }

    /** The {@code start} argv: flags, then the action word last. */
    List<String> startCommand(Bundle bundle) {
        List<String> argv = flags(bundle);
        argv.add("start");
        return argv;
    }

    /** The {@code delete} argv: the {@code start} flags plus {@code -bundle}, then the action word last. */
    List<String> deleteCommand(Bundle bundle) {
        List<String> argv = flags(bundle);
        argv.add("-bundle");
        argv.add(bundle.path().toString());
        argv.add("delete");
        return argv;
    }

    /** The environment both actions run with. */
    Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>(config.environment());
        env.put("PATH", config.path());
        env.put("GOMAXPROCS", "2");
        env.put("TTRPC_ADDRESS", config.ttrpcAddress());
        return env;
    }

    /**
     * The socket path in {@code start}'s output: whitespace trimmed (containerd does; the shim prints no newline)
     * and {@code unix://} stripped (pitfall 8).
     *
     * @throws BerthException INTERNAL for empty output or another scheme
     */
    static String parseAddress(String stdout) {
        String address = stdout.strip();
        if (address.startsWith(UNIX_SCHEME)) {
            address = address.substring(UNIX_SCHEME.length());
        }
        if (!address.startsWith("/")) {
            throw Errors.internal("shim start printed \"%s\", not a unix socket address", stdout);
        }
        return address;
    }

    /**
     * Runs {@code start} for {@code bundle}. The bundle must be complete, with a reader on its log FIFO.
     *
     * @return a cold Mono emitting the shim's socket path once {@code start} has exited 0, on {@code syscalls()}.
     *     Fails with INTERNAL (the shim's stderr in the message) for a non-zero exit or unusable output,
     *     UNAVAILABLE if the binary cannot be run, DEADLINE_EXCEEDED after the configured timeout (measured on
     *     {@code timer()}). On timeout the {@code start} process is killed and reaped before the error goes on; on
     *     cancel it is sent SIGKILL. A daemon it already spawned is not killed (find it through the bundle's {@code address} file or run
     *     {@link #delete}).
     */
    Mono<String> start(Bundle bundle) {
        return run(bundle, startCommand(bundle), "start").map(out -> {
            if (out.exit() != 0) {
                throw failed(bundle, "start", out);
            }
            String address = parseAddress(new String(out.stdout(), StandardCharsets.UTF_8));
            log.debug("[{}/{}] shim started, address={}", bundle.namespace(), bundle.id(), address);
            return address;
        });
    }

    /**
     * Runs {@code delete} for {@code bundle}: the shim force-deletes the runc container and reports it.
     *
     * @return a cold Mono emitting the raw {@code containerd.task.v2.DeleteResponse} bytes from stdout (its
     *     {@code exit_status} is always 137), on {@code syscalls()}. Fails as {@link #start} does; a bundle that
     *     never had a successful Create fails with INTERNAL (no {@code runtime} file). Stderr is logged at DEBUG
     *     as cleanup warnings.
     */
    Mono<byte[]> delete(Bundle bundle) {
        return run(bundle, deleteCommand(bundle), "delete").map(out -> {
            if (out.exit() != 0) {
                throw failed(bundle, "delete", out);
            }
            if (!out.stderr().isBlank()) {
                log.debug("[{}/{}] shim delete warnings: {}", bundle.namespace(), bundle.id(), out.stderr().strip());
            }
            return out.stdout();
        });
    }

    private List<String> flags(Bundle bundle) {
        List<String> argv = new ArrayList<>();
        argv.add(config.binary().toString());
        argv.add("-namespace");
        argv.add(bundle.namespace());
        argv.add("-address");
        argv.add(config.address());
        argv.add("-publish-binary");
        argv.add(config.publishBinary());
        argv.add("-id");
        argv.add(bundle.id());
        if (config.debug()) {
            argv.add("-debug");
        }
        return argv;
    }

    private Mono<Output> run(Bundle bundle, List<String> argv, String action) {
        return Mono.defer(() -> {
            // Per subscription: the spawned process, or CANCELLED once the attempt is abandoned. The timeout is
            // armed at subscription (before the spawn), so a spawn that finishes after it fired kills its own
            // process instead of leaking it.
            AtomicReference<Object> slot = new AtomicReference<>();
            return Mono.fromCallable(() -> {
                        Process process = spawn(bundle, argv, action);
                        if (!slot.compareAndSet(null, process)) {
                            process.destroyForcibly();
                            return null;
                        }
                        return process;
                    })
                    .subscribeOn(schedulers.syscalls())
                    .flatMap(process -> Mono.zip(readAll(process.getInputStream()),
                                    readAll(process.getErrorStream()))
                            .flatMap(out -> Mono.fromCallable(() -> new Output(out.getT1(),
                                            new String(out.getT2(), StandardCharsets.UTF_8), process.waitFor()))
                                    .subscribeOn(schedulers.syscalls())))
                    .timeout(config.timeout(), Mono.error(() -> Errors.deadlineExceeded(
                            "shim %s for %s/%s did not finish within %s", action, bundle.namespace(),
                            bundle.id(), config.timeout())), schedulers.timer())
                    // On error (the timeout included) the process is killed and reaped before the error goes on.
                    .onErrorResume(e -> kill(slot, bundle, action).then(Mono.error(e)))
                    // Cancel cannot wait: send SIGKILL; the reader threads then see EOF and end.
                    .doOnCancel(() -> {
                        if (slot.getAndSet(CANCELLED) instanceof Process process) {
                            process.destroyForcibly();
                        }
                    });
        });
    }

    private Process spawn(Bundle bundle, List<String> argv, String action) {
        ProcessBuilder builder = new ProcessBuilder(argv)
                .directory(bundle.path().toFile())
                // start reads stdin to EOF before it returns: an open pipe would hang it (pitfall 1).
                .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL));
        builder.environment().clear();
        builder.environment().putAll(environment());
        try {
            return builder.start();
        } catch (IOException e) {
            throw Errors.of(ErrorKind.UNAVAILABLE, e, "cannot run shim %s %s for %s/%s: %s", config.binary(),
                    action, bundle.namespace(), bundle.id(), e.getMessage());
        }
    }

    private Mono<byte[]> readAll(InputStream in) {
        return Mono.fromCallable(() -> {
            try (in) {
                return in.readAllBytes();
            }
        }).subscribeOn(schedulers.syscalls());
    }

    /** Kills and reaps the attempt's process, if it has one; a later spawn kills its own. Never fails. */
    private Mono<Void> kill(AtomicReference<Object> slot, Bundle bundle, String action) {
        return Mono.<Void>fromRunnable(() -> {
                    if (slot.getAndSet(CANCELLED) instanceof Process process) {
                        process.destroyForcibly();
                        try {
                            process.waitFor();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                })
                .subscribeOn(schedulers.syscalls())
                .timeout(KILL_TIMEOUT, schedulers.timer())
                .onErrorResume(e -> {
                    log.warn("[{}/{}] killing shim {} failed", bundle.namespace(), bundle.id(), action, e);
                    return Mono.empty();
                });
    }

    private BerthException failed(Bundle bundle, String action, Output out) {
        return Errors.internal("shim %s for %s/%s failed (exit %d): %s", action, bundle.namespace(), bundle.id(),
                out.exit(), out.stderr().strip());
    }
}
