package dev.berth.tasks;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.Identifiers;
import dev.berth.core.KillScope;
import dev.berth.core.Process;
import dev.berth.core.ProcessInfo;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Signal;
import dev.berth.core.Task;
import dev.berth.core.TaskSpec;
import dev.berth.shims.Shim;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** A task under the task manager: its init is this process, its execs are {@link ManagedExec}s. */
final class ManagedTask extends ManagedProcess implements Task {
    private static final Logger log = LoggerFactory.getLogger(ManagedTask.class);
    private final String namespace;
    private final TaskSpec spec;
    private final Shim shim;
    private final Runnable onDeleted;
    final TaskEvents events;
    private final Map<String, ManagedExec> execs = new ConcurrentHashMap<>();
    private final Set<String> execIds = ConcurrentHashMap.newKeySet();
    private volatile int lastPid;
    private volatile reactor.core.Disposable lostWatch = reactor.core.Disposables.disposed();

    ManagedTask(String namespace, TaskSpec spec, Shim shim, TaskEvents events, Runnable onDeleted,
            ProcessState initial) {
        super(spec.id(), shim.init(), initial);
        if (initial instanceof ProcessState.Running r) {
            lastPid = r.pid();
        } else if (initial instanceof ProcessState.Paused p) {
            lastPid = p.pid();
        }
        this.events = events;
        this.namespace = namespace;
        this.spec = spec;
        this.shim = shim;
        this.onDeleted = onDeleted;
    }

    @Override
    public String namespace() {
        return namespace;
    }

    @Override
    public TaskSpec spec() {
        return spec;
    }

    @Override
    public Mono<Void> kill(Signal signal, KillScope scope) {
        return scope == KillScope.INIT ? kill(signal)
                : Mono.defer(() -> requireLive("signal").then(shim.killAll(signal)));
    }

    @Override
    public Mono<Void> pause() {
        return Mono.defer(() -> {
            if (!(state.get() instanceof ProcessState.Running running)) {
                return Mono.error(Errors.failedPrecondition("cannot pause task %s: it is %s", id,
                        state.get().status()));
            }
            return shim.pause().then(Mono.fromRunnable(() -> {
                if (state.compareAndSet(running, new ProcessState.Paused(running.pid()))) {
                    events.paused(id);
                }
            }));
        });
    }

    @Override
    public Mono<Void> resume() {
        return Mono.defer(() -> {
            if (!(state.get() instanceof ProcessState.Paused paused)) {
                return Mono.error(Errors.failedPrecondition("cannot resume task %s: it is %s", id,
                        state.get().status()));
            }
            return shim.resume().then(Mono.fromRunnable(() -> {
                if (state.compareAndSet(paused, new ProcessState.Running(paused.pid()))) {
                    events.resumed(id);
                }
            }));
        });
    }

    @Override
    public Mono<Process> exec(String execId, ProcessSpec processSpec) {
        return Mono.defer(() -> {
            Identifiers.validate("exec id", execId);
            processSpec.validate();
            if (!(state.get() instanceof ProcessState.Running)) {
                return Mono.error(Errors.failedPrecondition("cannot exec in task %s: it is %s", id,
                        state.get().status()));
            }
            if (!execIds.add(execId)) {
                return Mono.error(Errors.alreadyExists("exec %s already exists in task %s", execId, id));
            }
            return shim.exec(execId, processSpec)
                    .<Process>map(p -> {
                        ManagedExec exec = new ManagedExec(execId, p, this);
                        exec.watchExit();
                        execs.put(execId, exec);
                        events.execAdded(id, execId);
                        return exec;
                    })
                    .doOnError(e -> execIds.remove(execId))
                    .doOnCancel(() -> execIds.remove(execId));
        });
    }

    /** Called by an exec once deleted. */
    void forget(ManagedExec exec) {
        execs.remove(exec.id, exec);
        execIds.remove(exec.id);
    }

    @Override
    public Mono<Void> update(dev.berth.core.oci.LinuxResources resources) {
        return Mono.defer(() -> {
            java.util.Objects.requireNonNull(resources, "resources");
            if ("{}".equals(dev.berth.core.oci.OciSpecs.toJson(resources))) {
                return Mono.error(Errors.invalidArgument("update of task %s sets no resource", id));
            }
            return requireLive("update").then(shim.update(resources));
        });
    }

    @Override
    public Mono<dev.berth.core.TaskMetrics> metrics() {
        return Mono.defer(() -> requireLive("sample the metrics of").then(shim.metrics()));
    }

    @Override
    public Flux<ProcessInfo> pids() {
        return Flux.defer(() -> requireLive("list the processes of").thenMany(shim.pids()));
    }

    @Override
    public Mono<ExitStatus> delete() {
        return delete(false);
    }

    @Override
    public Mono<ExitStatus> delete(boolean force) {
        return Mono.defer(() -> {
            ProcessState s = state.get();
            if (s instanceof ProcessState.Deleted || s instanceof ProcessState.Deleting) {
                return Mono.empty();
            }
            if (s instanceof ProcessState.Starting) {
                return Mono.error(Errors.failedPrecondition("task %s is starting", id));
            }
            if (s.live() && !force) {
                return Mono.error(Errors.failedPrecondition(
                        "task %s is %s: kill it first or force the delete", id, s.status()));
            }
            Mono<Void> stop = s.live()
                    ? shim.killAll(Signal.KILL)
                            .onErrorResume(e -> Errors.is(e, ErrorKind.NOT_FOUND), e -> Mono.empty())
                            .then(exit().then())
                    : Mono.empty();
            return stop.then(Mono.defer(this::deleteStopped));
        });
    }

    private Mono<ExitStatus> deleteStopped() {
        ProcessState s = state.get();
        if (s instanceof ProcessState.Deleted || s instanceof ProcessState.Deleting) {
            return Mono.empty();
        }
        if (s.live() || !state.compareAndSet(s, ProcessState.DELETING)) {
            return Mono.error(Errors.failedPrecondition("task %s changed state during delete", id));
        }
        return shim.delete()
                .doOnError(e -> state.compareAndSet(ProcessState.DELETING, s))
                .then(Mono.fromRunnable(() -> {
                    execs.values().forEach(ManagedExec::deleted);
                    execs.clear();
                    execIds.clear();
                    deleted();
                    lostWatch.dispose();
                    onDeleted.run();
                    events.deleted(id, s instanceof ProcessState.Stopped ? lastPid : 0,
                            s instanceof ProcessState.Stopped stopped ? stopped.exit() : null);
                }))
                .then(Mono.justOrEmpty(s instanceof ProcessState.Stopped stopped ? stopped.exit() : null));
    }

    @Override
    void publishStart(int pid) {
        lastPid = pid;
        events.started(id, pid);
    }

    @Override
    void publishExit(ExitStatus status, int pid) {
        events.exited(id, id, pid, status);
    }

    /**
     * Follows the shim's loss. A task still running when its shim died gets an unknown exit from the shim; it is
     * then deleted as containerd deletes it ({@code /tasks/exit}, then {@code /tasks/delete}); so is one that never
     * started. A task that had exited before keeps its real exit and waits for its delete, so no exit is invented.
     * The loss is acted on after this task's own exit signal, whatever order the shim's signals reach us in.
     */
    void watchLost() {
        lostWatch = shim.lost()
                .then(Mono.defer(() -> state.get().live() ? exit().onErrorResume(e -> Mono.empty()).then()
                        : Mono.empty()))
                .subscribe(null, e -> log.warn("[{}/{}] shim loss not followed", namespace, id, e), this::onLost);
    }

    private void onLost() {
        ProcessState s = state.get();
        if ((s instanceof ProcessState.Stopped stopped && stopped.exit().kind() == ExitStatus.Kind.UNKNOWN)
                || s instanceof ProcessState.Created) {
            log.warn("[{}/{}] shim lost while the task was {}: deleted", namespace, id, s.status());
            deleteStopped().subscribe(null, e -> log.warn("[{}/{}] delete after shim loss failed", namespace, id,
                    e));
        }
    }

    /** Lets go of the task without ending it (its runtime permitting); the registry forgets it. */
    Mono<Void> detach() {
        return shim.detach().then(Mono.fromRunnable(() -> {
            lostWatch.dispose();
            onDeleted.run();
        }));
    }

    boolean isRunning() {
        return state.get() instanceof ProcessState.Running;
    }
}
