package dev.berth.shims.embedded;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.ProcessInfo;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.shims.Shim;
import dev.berth.shims.ShimProcess;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One task of the embedded runtime. Its init leads a new process group; every exec joins that group, so a signal
 * to the group reaches the whole task, descendants included.
 */
final class EmbeddedShim implements Shim {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(EmbeddedShim.class);
    /** How long delete waits for the execs it killed. */
    private static final Duration EXEC_EXIT_TIMEOUT = Duration.ofSeconds(10);

    private static final long SIGNAL_SETTLE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

    private final EmbeddedShimManager runtime;
    private final String name;
    private final EmbeddedProcess init;
    private final Map<String, EmbeddedProcess> execs = new ConcurrentHashMap<>();

    EmbeddedShim(EmbeddedShimManager runtime, String namespace, String id, Command command, StdioFds fds) {
        this.runtime = runtime;
        this.name = namespace + "/" + id;
        this.init = new EmbeddedProcess(id, command, this, runtime, fds);
    }

    String name() {
        return name;
    }

    @Override
    public EmbeddedProcess init() {
        return init;
    }

    /** The group a process joins at spawn: 0 (a new group) for the init, the init's group for an exec. */
    int processGroupFor(EmbeddedProcess process) {
        if (process == init) {
            return 0;
        }
        int group = init.pid();
        if (group == 0) {
            throw Errors.failedPrecondition("task %s has not started", name);
        }
        return group;
    }

    @Override
    public Mono<ShimProcess> exec(String execId, ProcessSpec spec) {
        return Mono.<ShimProcess>fromCallable(() -> {
            if (!init.started()) {
                throw Errors.failedPrecondition("task %s has not started", name);
            }
            if (execs.containsKey(execId)) {
                throw Errors.alreadyExists("exec %s already exists in task %s", execId, name);
            }
            Command command = Command.resolve(spec, runtime.hostEnvironment());
            EmbeddedProcess process = new EmbeddedProcess(execId, command, this, runtime,
                    StdioFds.open(spec.stdio(), runtime.syscalls()));
            if (execs.putIfAbsent(execId, process) != null) {
                process.discard();
                throw Errors.alreadyExists("exec %s already exists in task %s", execId, name);
            }
            return process;
        }).subscribeOn(runtime.schedulers().syscalls());
    }

    @Override
    public Mono<Void> killAll(Signal signal) {
        return Mono.<Void>fromRunnable(() -> {
            int group = init.pid();
            if (group == 0) {
                throw Errors.failedPrecondition("task %s has not started", name);
            }
            runtime.syscalls().kill(-group, signal.number());
        }).subscribeOn(runtime.schedulers().syscalls());
    }

    @Override
    public Mono<Void> pause() {
        return killAll(Signal.STOP).then(awaitGroup(true));
    }

    @Override
    public Mono<Void> resume() {
        return killAll(Signal.CONT).then(awaitGroup(false));
    }

    /** Completes once the group's processes have acted on SIGSTOP / SIGCONT (on the syscalls scheduler). */
    private Mono<Void> awaitGroup(boolean stopped) {
        return Mono.<Void>fromRunnable(() -> {
            if (!ProcessGroups.awaitAll(init.pid(), stopped, SIGNAL_SETTLE_NANOS)) {
                throw Errors.deadlineExceeded("processes of task %s did not %s within a second", name,
                        stopped ? "stop" : "continue");
            }
        }).subscribeOn(runtime.schedulers().syscalls());
    }

    @Override
    public Flux<ProcessInfo> pids() {
        return Flux.defer(() -> {
            int group = init.pid();
            if (group == 0) {
                return Flux.error(Errors.failedPrecondition("task %s has not started", name));
            }
            Map<Integer, String> execIds = new java.util.HashMap<>();
            execs.forEach((id, p) -> execIds.put(p.pid(), id));
            return Flux.fromIterable(ProcessGroups.members(group))
                    .sort((a, b) -> a.pid() == group ? -1 : b.pid() == group ? 1 : Integer.compare(a.pid(), b.pid()))
                    .map(m -> new ProcessInfo(m.pid(), execIds.getOrDefault(m.pid(), ""), m.command()));
        }).subscribeOn(runtime.schedulers().syscalls());
    }

    /**
     * Called on the loop when a process of the task has exited. The task ends with its init, as a container ends
     * with its pid namespace: what is left of the group is killed, and the init's exit is reported only after
     * every exec's, so an exec's exit always comes first.
     */
    void onExit(EmbeddedProcess process, ExitStatus status) {
        if (process != init) {
            process.emitExit(status);
            return;
        }
        try {
            runtime.syscalls().kill(-init.pid(), Signal.KILL.number());
        } catch (RuntimeException e) {
            if (!Errors.is(e, ErrorKind.NOT_FOUND)) {
                log.warn("[{}] could not end the rest of the task after its init exited", name, e);
            }
        }
        List<EmbeddedProcess> running = execs.values().stream().filter(EmbeddedProcess::running).toList();
        if (running.isEmpty()) {
            init.emitExit(status);
            return;
        }
        // Owned boundary: completes by itself within EXEC_EXIT_TIMEOUT, then the init's exit is reported anyway.
        Flux.fromIterable(running)
                .flatMap(p -> p.exit().then())
                .then()
                .timeout(EXEC_EXIT_TIMEOUT, runtime.schedulers().timer())
                .subscribe(null, e -> {
                    log.warn("[{}] execs did not exit after the init; reporting the init's exit", name, e);
                    init.emitExit(status);
                }, () -> init.emitExit(status));
    }

    /** Called by a deleted exec: it no longer belongs to the task. */
    void forget(EmbeddedProcess process) {
        if (process != init) {
            execs.remove(process.id(), process);
        }
    }

    @Override
    public Mono<Void> delete() {
        return Mono.defer(() -> {
            // The init has exited (or never ran): onExit already ended the rest of the group. Execs that are still
            // being reported are waited for; the common case has none and pays for no timer.
            List<EmbeddedProcess> running = execs.values().stream().filter(EmbeddedProcess::running).toList();
            Mono<Void> execExits = running.isEmpty() ? Mono.empty()
                    : Flux.fromIterable(running)
                            .flatMap(p -> p.exit().then())
                            .then()
                            .timeout(EXEC_EXIT_TIMEOUT, Mono.error(() -> Errors.deadlineExceeded(
                                    "execs of task %s did not exit within %s", name, EXEC_EXIT_TIMEOUT)),
                                    runtime.schedulers().timer());
            return execExits
                    .then(Flux.fromIterable(execs.values()).concatMap(EmbeddedProcess::delete).then())
                    .then(init.delete());
        });
    }

    /** Releases a shim whose create failed or was cancelled. */
    void discard() {
        init.discard();
    }
}
