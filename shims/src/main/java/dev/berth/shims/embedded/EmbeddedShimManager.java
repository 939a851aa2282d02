package dev.berth.shims.embedded;

import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.TaskSpec;
import dev.berth.core.os.Syscalls;
import dev.berth.io.IoLoop;
import dev.berth.shims.Shim;
import dev.berth.shims.ShimManager;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import reactor.core.publisher.Mono;

/** The embedded runtime's shim manager: owns the event loop its tasks share. */
final class EmbeddedShimManager implements ShimManager {
    private final EmbeddedRuntime.Config config;
    private final IoLoop loop;

    private EmbeddedShimManager(EmbeddedRuntime.Config config, IoLoop loop) {
        this.config = config;
        this.loop = loop;
    }

    static EmbeddedShimManager start(EmbeddedRuntime.Config config) {
        return new EmbeddedShimManager(config, IoLoop.create("berth-io", config.syscalls()));
    }

    @Override
    public String runtime() {
        return EmbeddedRuntime.NAME;
    }

    @Override
    public Mono<Shim> create(String namespace, TaskSpec spec) {
        return Mono.<Shim>fromCallable(() -> {
            if (spec.rootfs() != null) {
                throw Errors.invalidArgument(
                        "task %s has a rootfs, but the embedded runtime runs host processes: use a container runtime",
                        spec.id());
            }
            Command command = Command.resolve(spec.process(), config.hostEnvironment());
            StdioFds fds = StdioFds.open(spec.process().stdio(), config.syscalls());
            return new EmbeddedShim(this, namespace, spec.id(), command, fds);
        })
                .subscribeOn(config.schedulers().syscalls())
                // A create cancelled while the callable ran: release the descriptors it opened.
                .doOnDiscard(EmbeddedShim.class, EmbeddedShim::discard);
    }

    @Override
    public Mono<Void> close() {
        return loop.close();
    }

    IoLoop loop() {
        return loop;
    }

    Syscalls syscalls() {
        return config.syscalls();
    }

    RuntimeSchedulers schedulers() {
        return config.schedulers();
    }

    Clock clock() {
        return config.clock();
    }

    Duration drainTimeout() {
        return config.drainTimeout();
    }

    Map<String, String> hostEnvironment() {
        return config.hostEnvironment();
    }
}
