package dev.berth.shims.internal.v2;

import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.internal.ttrpc.TtrpcClient;
import dev.berth.shims.internal.v2.proto.CheckpointTaskRequest;
import dev.berth.shims.internal.v2.proto.CloseIORequest;
import dev.berth.shims.internal.v2.proto.ConnectRequest;
import dev.berth.shims.internal.v2.proto.ConnectResponse;
import dev.berth.shims.internal.v2.proto.CreateTaskRequest;
import dev.berth.shims.internal.v2.proto.CreateTaskResponse;
import dev.berth.shims.internal.v2.proto.DeleteRequest;
import dev.berth.shims.internal.v2.proto.DeleteResponse;
import dev.berth.shims.internal.v2.proto.ExecProcessRequest;
import dev.berth.shims.internal.v2.proto.KillRequest;
import dev.berth.shims.internal.v2.proto.PauseRequest;
import dev.berth.shims.internal.v2.proto.PidsRequest;
import dev.berth.shims.internal.v2.proto.PidsResponse;
import dev.berth.shims.internal.v2.proto.ResizePtyRequest;
import dev.berth.shims.internal.v2.proto.ResumeRequest;
import dev.berth.shims.internal.v2.proto.ShutdownRequest;
import dev.berth.shims.internal.v2.proto.StartRequest;
import dev.berth.shims.internal.v2.proto.StartResponse;
import dev.berth.shims.internal.v2.proto.StateRequest;
import dev.berth.shims.internal.v2.proto.StateResponse;
import dev.berth.shims.internal.v2.proto.StatsRequest;
import dev.berth.shims.internal.v2.proto.StatsResponse;
import dev.berth.shims.internal.v2.proto.UpdateTaskRequest;
import dev.berth.shims.internal.v2.proto.WaitRequest;
import dev.berth.shims.internal.v2.proto.WaitResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import reactor.core.publisher.Mono;

/**
 * A typed client for one shim's task service, {@code containerd.task.v2.Task} (spec §4), over a {@link TtrpcClient}
 * it does not own (closing the connection is the caller's business).
 *
 * <p>Every method is cold: nothing is validated or sent until subscription, and each subscription sends a new request.
 * Requests the shim would crash on are refused with INVALID_ARGUMENT before anything is sent (spec pitfall 12): an
 * empty task id, an Exec without {@code spec} or exec id, an Update without {@code resources}. Other failures come from
 * the transport: the kind of the shim's status (its NOT_FOUND stays NOT_FOUND), DEADLINE_EXCEEDED when no reply came
 * within the call's timeout, UNAVAILABLE when the connection is or goes down. Cancelling only stops the wait: a request
 * already sent may still take effect (ttrpc has no cancel), and events will show it. Results are emitted on the
 * connection's event loop, timeouts on the transport's timer.
 *
 * <p>Timeouts (also sent to the shim as the request deadline): {@link #DEFAULT_TIMEOUT} for most calls,
 * {@link #CREATE_TIMEOUT} for Create and Checkpoint (Create includes opening the stdio FIFOs, pitfall 17), and none at
 * all for Wait, which answers only when the process exits.
 */
public final class ShimTaskClient {
    /** The service name on the wire. */
    public static final String SERVICE = "containerd.task.v2.Task";
    /** The timeout of every call but Create, Checkpoint and Wait. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** The timeout of Create and Checkpoint: the shim's FIFO opens and runc count against it. */
    public static final Duration CREATE_TIMEOUT = Duration.ofMinutes(2);

    private final TtrpcClient ttrpc;
    private final Duration callTimeout;
    private final Duration createTimeout;

    private ShimTaskClient(TtrpcClient ttrpc, Duration callTimeout, Duration createTimeout) {
        this.ttrpc = ttrpc;
        this.callTimeout = callTimeout;
        this.createTimeout = createTimeout;
    }

    /** A client with the default timeouts over {@code ttrpc}. */
    public static ShimTaskClient create(TtrpcClient ttrpc) {
        return create(ttrpc, DEFAULT_TIMEOUT, CREATE_TIMEOUT);
    }

    /**
     * A client over {@code ttrpc}.
     *
     * @param callTimeout the timeout of every call but Create, Checkpoint and Wait; positive
     * @param createTimeout the timeout of Create and Checkpoint; positive
     * @throws IllegalArgumentException if a timeout is zero or negative
     */
    public static ShimTaskClient create(TtrpcClient ttrpc, Duration callTimeout, Duration createTimeout) {
        Objects.requireNonNull(ttrpc, "ttrpc");
        return new ShimTaskClient(ttrpc, positive(callTimeout, "callTimeout"), positive(createTimeout, "createTimeout"));
    }

    /** @return a cold Mono emitting the state of the init process (empty exec id) or an exec. */
    public Mono<StateResponse> state(StateRequest request) {
        return call("State", request.getId(), request, StateResponse.parser(), callTimeout);
    }

    /**
     * Creates the task ({@code runc create}) and opens its stdio.
     *
     * @return a cold Mono emitting the init pid, timed out after the create timeout. A failed Create can leave a runc
     *     container behind that the shim no longer knows (spec §4.3, pitfall 16); cleaning up is the caller's job.
     */
    public Mono<CreateTaskResponse> create(CreateTaskRequest request) {
        return call("Create", request.getId(), request, CreateTaskResponse.parser(), createTimeout);
    }

    /** @return a cold Mono emitting the pid of the started init process (empty exec id) or exec. */
    public Mono<StartResponse> start(StartRequest request) {
        return call("Start", request.getId(), request, StartResponse.parser(), callTimeout);
    }

    /**
     * Deletes the init process (and so the task) or an exec.
     *
     * @return a cold Mono emitting the exit; {@code exited_at} is Go's zero time for an exec that never started (see
     *     {@link Timestamps#toInstant}). Fails with NOT_FOUND once deleted, FAILED_PRECONDITION while running.
     */
    public Mono<DeleteResponse> delete(DeleteRequest request) {
        return call("Delete", request.getId(), request, DeleteResponse.parser(), callTimeout);
    }

    /** @return a cold Mono emitting the task's processes. */
    public Mono<PidsResponse> pids(PidsRequest request) {
        return call("Pids", request.getId(), request, PidsResponse.parser(), callTimeout);
    }

    /** @return a cold Mono completing once the task is paused. */
    public Mono<Void> pause(PauseRequest request) {
        return command("Pause", request.getId(), request, callTimeout);
    }

    /** @return a cold Mono completing once the task is resumed. */
    public Mono<Void> resume(ResumeRequest request) {
        return command("Resume", request.getId(), request, callTimeout);
    }

    /** @return a cold Mono completing once the checkpoint is written, timed out after the create timeout. */
    public Mono<Void> checkpoint(CheckpointTaskRequest request) {
        return command("Checkpoint", request.getId(), request, createTimeout);
    }

    /**
     * Signals the init process (with {@code all}, every process of the task) or an exec.
     *
     * @return a cold Mono completing once the signal is sent; the exit comes through Wait or the events. Fails with
     *     NOT_FOUND if the process has finished.
     */
    public Mono<Void> kill(KillRequest request) {
        return command("Kill", request.getId(), request, callTimeout);
    }

    /**
     * Adds an exec process; {@link #start} runs it.
     *
     * @return a cold Mono completing once the exec is added. Fails with INVALID_ARGUMENT, sending nothing, without a
     *     {@code spec} (it would crash the shim) or an exec id.
     */
    public Mono<Void> exec(ExecProcessRequest request) {
        Objects.requireNonNull(request, "request");
        return Mono.defer(() -> {
            if (request.getExecId().isEmpty()) {
                return Mono.error(Errors.invalidArgument("Exec in task %s: the exec id is empty", request.getId()));
            }
            if (!request.hasSpec()) {
                return Mono.error(Errors.invalidArgument("Exec %s in task %s: no process spec (it would crash the shim)",
                        request.getExecId(), request.getId()));
            }
            return command("Exec", request.getId(), request, callTimeout);
        });
    }

    /** @return a cold Mono completing once the terminal is resized (a no-op for a process without one). */
    public Mono<Void> resizePty(ResizePtyRequest request) {
        return command("ResizePty", request.getId(), request, callTimeout);
    }

    /** @return a cold Mono completing once the shim has closed the process's stdin (with {@code stdin} set). */
    public Mono<Void> closeIO(CloseIORequest request) {
        return command("CloseIO", request.getId(), request, callTimeout);
    }

    /**
     * Updates the task's resources.
     *
     * @return a cold Mono completing once applied. Fails with INVALID_ARGUMENT, sending nothing, without
     *     {@code resources} (it would crash the shim).
     */
    public Mono<Void> update(UpdateTaskRequest request) {
        Objects.requireNonNull(request, "request");
        return Mono.defer(() -> {
            if (!request.hasResources()) {
                return Mono.error(Errors.invalidArgument("Update of task %s: no resources (it would crash the shim)",
                        request.getId()));
            }
            return command("Update", request.getId(), request, callTimeout);
        });
    }

    /**
     * Waits for the init process or an exec to exit.
     *
     * @return a cold Mono emitting the exit when it happens, at once if it already has. It has no timeout (the shim
     *     ignores deadlines on Wait, pitfall 17); a Wait on an exec whose Start failed may never answer (pitfall 26),
     *     so bound it yourself there. Cancelling stops the wait only.
     */
    public Mono<WaitResponse> wait(WaitRequest request) {
        return call("Wait", request.getId(), request, WaitResponse.parser(), Duration.ZERO);
    }

    /** @return a cold Mono emitting the task's cgroup metrics, an Any of the host's cgroups Metrics type. */
    public Mono<StatsResponse> stats(StatsRequest request) {
        return call("Stats", request.getId(), request, StatsResponse.parser(), callTimeout);
    }

    /**
     * Asks for the shim's pid and the task's. Never fails for an unknown task id, so it doubles as a ping.
     *
     * @return a cold Mono emitting the pids; {@code task_pid} is 0 when the task is unknown or not created yet
     */
    public Mono<ConnectResponse> connect(ConnectRequest request) {
        return call("Connect", request.getId(), request, ConnectResponse.parser(), callTimeout);
    }

    /**
     * Asks the shim to exit. It does so only when it has no tasks left.
     *
     * @return a cold Mono completing when the shim replied OK or closed the connection, both of which mean success
     *     (pitfall 22): the connection being down, before or during the call, is not a failure here. Other failures
     *     are as for any call.
     */
    public Mono<Void> shutdown(ShutdownRequest request) {
        return command("Shutdown", request.getId(), request, callTimeout)
                .onErrorResume(e -> Errors.is(e, ErrorKind.UNAVAILABLE), e -> Mono.empty());
    }

    @Override
    public String toString() {
        return "ShimTaskClient[" + ttrpc + "]";
    }

    private Mono<Void> command(String method, String id, Message request, Duration timeout) {
        return call(method, id, request, Empty.parser(), timeout).then();
    }

    private <T extends Message> Mono<T> call(String method, String id, Message request, Parser<T> parser,
            Duration timeout) {
        return Mono.defer(() -> {
            if (id.isEmpty()) {
                return Mono.error(Errors.invalidArgument("%s: the task id is empty", method));
            }
            return ttrpc.call(SERVICE, method, request, parser, timeout, Map.of());
        });
    }

    private static Duration positive(Duration timeout, String name) {
        Objects.requireNonNull(timeout, name);
        if (timeout.isZero() || timeout.isNegative()) {
            throw new IllegalArgumentException(name + " must be positive: " + timeout);
        }
        return timeout;
    }
}
