package dev.berth.shims.internal.v2;

import dev.berth.core.Identifiers;
import dev.berth.core.ProcessSpec;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Stdio;
import dev.berth.core.TaskSpec;
import dev.berth.core.internal.ttrpc.TtrpcClient;
import dev.berth.core.oci.OciProcess;
import dev.berth.core.oci.OciSpecs;
import dev.berth.core.oci.Spec;
import dev.berth.shims.internal.v2.proto.ConnectRequest;
import dev.berth.shims.internal.v2.proto.StateRequest;
import dev.berth.shims.internal.v2.proto.StateResponse;
import dev.berth.shims.v2.ShimV2Runtime;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Finds the bundles a previous owner of the state directory left and reconnects to their shims, as containerd does
 * after a restart (spec §3.6): read {@code <bundle>/address}, dial it, {@code Connect} (5 s), then {@code State} of
 * the init. What it finds is {@link Found}: a live shim with its connection, a dead one, or a bundle whose create
 * never got as far as a shim. Nothing is cleaned or adopted here; that is the manager's call.
 */
final class Restorer {
    private static final Logger log = LoggerFactory.getLogger(Restorer.class);
    /** containerd's bound on reconnecting to one shim. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    /** What one bundle turned out to be. */
    sealed interface Found {
        Bundle bundle();
    }

    /** A shim that answered: its connection, its pid, and the init's state. */
    record Live(Bundle bundle, TaskSpec spec, TtrpcClient ttrpc, ShimTaskClient client, int shimPid,
            StateResponse state) implements Found {
    }

    /**
     * A bundle whose shim is gone (or does not answer), or whose live pooled daemon does not know its task: it had
     * an address, so a task existed.
     *
     * @param pid the init's pid from {@code init.pid}, 0 if unknown
     * @param daemonLives the daemon named by the address still serves other tasks: its socket must stay
     */
    record Dead(Bundle bundle, TaskSpec spec, int pid, String reason, boolean daemonLives) implements Found {
    }

    /** A bundle without an address: its create died before the shim started, so no task ever existed. */
    record Incomplete(Bundle bundle) implements Found {
    }

    /**
     * The home of a pooled daemon (see {@link ShimPool}) and, when it answered, its connection and pid.
     *
     * @param socket the daemon's socket from the home's {@code address}, null if there is none
     */
    record Home(Bundle home, @Nullable Path socket, @Nullable TtrpcClient ttrpc, @Nullable ShimTaskClient client,
            int shimPid) {
        boolean live() {
            return ttrpc != null;
        }
    }

    private final Path state;
    private final RuntimeSchedulers schedulers;
    /** The daemons known already (found in their homes first): their bundles reuse their connection. */
    private final @Nullable ShimPool pool;

    Restorer(Path state, RuntimeSchedulers schedulers) {
        this(state, schedulers, null);
    }

    Restorer(Path state, RuntimeSchedulers schedulers, @Nullable ShimPool pool) {
        this.state = state;
        this.schedulers = schedulers;
        this.pool = pool;
    }

    /**
     * The pooled daemons' homes, {@code <state>/.shims/<namespace>/<name>}, each dialled and Connected (5 s): live
     * or not.
     *
     * @return a cold Flux in namespace and name order
     */
    Flux<Home> homes() {
        return Mono.fromCallable(this::homeDirectories)
                .subscribeOn(schedulers.syscalls())
                .flatMapMany(Flux::fromIterable)
                .concatMap(this::dialHome);
    }

    private List<Bundle> homeDirectories() throws IOException {
        List<Bundle> found = new ArrayList<>();
        Path homes = ShimPool.homes(state);
        if (!Files.isDirectory(homes)) {
            return found;
        }
        for (Path namespace : sorted(homes)) {
            String ns = namespace.getFileName().toString();
            if (!Files.isDirectory(namespace) || !valid(ns)) {
                continue;
            }
            for (Path dir : sorted(namespace)) {
                String name = dir.getFileName().toString();
                if (valid(name) && Files.isDirectory(dir)) {
                    found.add(new Bundle(ns, name, dir));
                }
            }
        }
        return found;
    }

    private Mono<Home> dialHome(Bundle home) {
        return Mono.fromCallable(() -> Files.exists(home.address())
                        ? Path.of(ShimStart.parseAddress(Files.readString(home.address(), StandardCharsets.UTF_8)))
                        : null)
                .subscribeOn(schedulers.syscalls())
                .onErrorResume(e -> Mono.empty())
                .flatMap(socket -> dial(socket, home.id(), (ttrpc, client, shimPid) ->
                                Mono.just(new Home(home, socket, ttrpc, client, shimPid)))
                        .onErrorResume(e -> {
                            log.info("[{}/{}] pooled shim at {} is gone: {}", home.namespace(), home.id(), socket,
                                    e.toString());
                            return Mono.just(new Home(home, socket, null, null, 0));
                        }))
                .defaultIfEmpty(new Home(home, null, null, null, 0));
    }

    /** @return a cold Flux of what each bundle under the state directory is, in namespace and id order */
    Flux<Found> scan() {
        return Mono.fromCallable(this::bundles)
                .subscribeOn(schedulers.syscalls())
                .flatMapMany(Flux::fromIterable)
                .concatMap(this::examine);
    }

    /** The bundle directories: {@code <state>/<namespace>/<id>} holding a {@code config.json}. */
    List<Bundle> bundles() throws IOException {
        List<Bundle> found = new ArrayList<>();
        if (!Files.isDirectory(state)) {
            return found;
        }
        for (Path namespace : sorted(state)) {
            String ns = namespace.getFileName().toString();
            if (!Files.isDirectory(namespace) || !valid(ns)) {
                continue;
            }
            for (Path dir : sorted(namespace)) {
                String id = dir.getFileName().toString();
                if (valid(id) && Files.isRegularFile(dir.resolve("config.json"))) {
                    found.add(new Bundle(ns, id, dir));
                }
            }
        }
        return found;
    }

    private static List<Path> sorted(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
    }

    private static boolean valid(String name) {
        try {
            Identifiers.validate("name", name);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** @return a cold Mono of what {@code bundle} is: its files read, its shim dialled */
    Mono<Found> examine(Bundle bundle) {
        return Mono.fromCallable(() -> read(bundle))
                .subscribeOn(schedulers.syscalls())
                .flatMap(files -> files.address == null
                        ? Mono.<Found>just(new Incomplete(bundle))
                        : reconnect(bundle, files).onErrorResume(e -> {
                            log.info("[{}/{}] shim at {} is gone: {}", bundle.namespace(), bundle.id(),
                                    files.address, e.toString());
                            return Mono.just(new Dead(bundle, files.spec, files.pid, e.toString(), false));
                        }));
    }

    /** What the bundle's files say. */
    private record BundleFiles(TaskSpec spec, @Nullable String address, int pid) {
    }

    private BundleFiles read(Bundle bundle) throws IOException {
        TaskSpec spec = spec(bundle);
        String address = Files.exists(bundle.address())
                ? Files.readString(bundle.address(), StandardCharsets.UTF_8).strip() : null;
        int pid = 0;
        Path initPid = bundle.path().resolve("init.pid");
        if (Files.exists(initPid)) {
            try {
                pid = Integer.parseInt(Files.readString(initPid, StandardCharsets.US_ASCII).strip());
            } catch (NumberFormatException e) {
                pid = 0;
            }
        }
        return new BundleFiles(spec, address == null || address.isEmpty() ? null : address, pid);
    }

    /**
     * The task as far as the bundle records it: args, env and cwd from {@code config.json}, the rootfs, and stdio
     * from the FIFOs present (a FIFO means a pipe; no FIFO means the stream was discarded or went to a file).
     */
    static TaskSpec spec(Bundle bundle) throws IOException {
        Spec spec = OciSpecs.fromJson(Files.readString(bundle.config(), StandardCharsets.UTF_8));
        OciProcess process = spec.process();
        List<String> args = process == null ? List.of() : process.args();
        Map<String, String> env = new LinkedHashMap<>();
        if (process != null) {
            for (String entry : process.env()) {
                int eq = entry.indexOf('=');
                if (eq > 0) {
                    env.put(entry.substring(0, eq), entry.substring(eq + 1));
                }
            }
        }
        StdioFifos fifos = bundle.fifos(bundle.id(), true);
        Stdio stdio = new Stdio(
                fifos.stdin() != null && Files.exists(fifos.stdin()) ? Stdio.Input.PIPE : Stdio.Input.NULL,
                Files.exists(fifos.stdout()) ? Stdio.Output.PIPE : Stdio.Output.NULL,
                Files.exists(fifos.stderr()) ? Stdio.Output.PIPE : Stdio.Output.NULL);
        ProcessSpec.Builder processSpec = ProcessSpec.builder(args.isEmpty() ? List.of("?") : args)
                .cwd(process == null ? null : process.cwd())
                .stdio(stdio);
        env.forEach(processSpec::env);
        Path rootfs = spec.root() == null ? null : bundle.path().resolve(spec.root().path());
        return TaskSpec.builder(bundle.id(), processSpec.build())
                .runtime(ShimV2Runtime.NAME)
                .rootfs(rootfs)
                .build();
    }

    /**
     * Dial, Connect, State; the connection is closed again if a later step fails. A daemon the pool knows already
     * is asked for State over its connection, without a dial.
     */
    private Mono<Found> reconnect(Bundle bundle, BundleFiles files) {
        String address = files.address;
        PooledShim known = null;
        try {
            known = pool == null ? null : pool.find(bundle.namespace(), Path.of(ShimStart.parseAddress(address)));
        } catch (RuntimeException e) {
            known = null; // a bad address file: dialling it fails below, and the bundle is dead
        }
        if (known != null) {
            PooledShim shim = known;
            return shim.client().state(StateRequest.newBuilder().setId(bundle.id()).build())
                    .timeout(CONNECT_TIMEOUT, schedulers.timer())
                    .<Found>map(state -> new Live(bundle, files.spec, shim.ttrpc(), shim.client(), shim.shimPid(),
                            state))
                    .onErrorResume(e -> {
                        log.info("[{}/{}] {} does not know the task: {}", bundle.namespace(), bundle.id(), shim,
                                e.toString());
                        return Mono.just(new Dead(bundle, files.spec, files.pid, e.toString(), true));
                    });
        }
        return Mono.fromCallable(() -> Path.of(ShimStart.parseAddress(address))) // a bad address file: dead
                .flatMap(socket -> dial(socket, bundle.id(), (ttrpc, client, shimPid) ->
                        client.state(StateRequest.newBuilder().setId(bundle.id()).build())
                                .timeout(CONNECT_TIMEOUT, schedulers.timer())
                                .<Found>map(state -> new Live(bundle, files.spec, ttrpc, client, shimPid, state))));
    }

    /** What to do with a shim once dialled and Connected. */
    private interface Connected<T> {
        Mono<T> then(TtrpcClient ttrpc, ShimTaskClient client, int shimPid);
    }

    /**
     * Dials {@code socket}, sends Connect for {@code id} (each bounded by {@link #CONNECT_TIMEOUT}), then runs
     * {@code then}; the connection is closed again if any step fails.
     */
    private <T> Mono<T> dial(Path socket, String id, Connected<T> then) {
        return TtrpcClient.connect(socket, schedulers.timer())
                .timeout(CONNECT_TIMEOUT, schedulers.timer())
                .flatMap(ttrpc -> {
                    ShimTaskClient client = ShimTaskClient.create(ttrpc);
                    return client.connect(ConnectRequest.newBuilder().setId(id).build())
                            .timeout(CONNECT_TIMEOUT, schedulers.timer())
                            .flatMap(connected -> then.then(ttrpc, client, connected.getShimPid()))
                            .onErrorResume(e -> ttrpc.close().onErrorResume(x -> Mono.empty())
                                    .then(Mono.error(e)));
                });
    }
}
