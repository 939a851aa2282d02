package dev.berth.tasks;

import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import dev.berth.core.ExitStatus;
import dev.berth.events.EventExchange;
import dev.berth.events.TaskTopics;
import dev.berth.events.proto.containerd.events.TaskCreate;
import dev.berth.events.proto.containerd.events.TaskDelete;
import dev.berth.events.proto.containerd.events.TaskExecAdded;
import dev.berth.events.proto.containerd.events.TaskExecStarted;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.events.proto.containerd.events.TaskPaused;
import dev.berth.events.proto.containerd.events.TaskResumed;
import dev.berth.events.proto.containerd.events.TaskStart;
import java.time.Instant;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lifecycle events of one namespace's tasks, with the fields containerd fills. Publishing is synchronous and
 * never blocks; a failure to publish (the exchange closed during shutdown) is logged, never raised into the
 * lifecycle it describes.
 */
final class TaskEvents {
    private static final Logger log = LoggerFactory.getLogger(TaskEvents.class);

    private final EventExchange exchange;
    private final String namespace;

    TaskEvents(EventExchange exchange, String namespace) {
        this.exchange = exchange;
        this.namespace = namespace;
    }

    void created(String id, int pid) {
        emit(TaskTopics.CREATE, TaskCreate.newBuilder().setContainerId(id).setPid(pid).build());
    }

    void started(String id, int pid) {
        emit(TaskTopics.START, TaskStart.newBuilder().setContainerId(id).setPid(pid).build());
    }

    /** An exit: {@code processId} is the container id for the init, the exec id for an exec. */
    void exited(String id, String processId, int pid, ExitStatus status) {
        emit(TaskTopics.EXIT, TaskExit.newBuilder().setContainerId(id).setId(processId).setPid(pid)
                .setExitStatus(status.toShellCode()).setExitedAt(timestamp(status.exitedAt())).build());
    }

    /** The init's delete; {@code status} is null for a task that never ran. */
    void deleted(String id, int pid, @Nullable ExitStatus status) {
        TaskDelete.Builder event = TaskDelete.newBuilder().setContainerId(id).setPid(pid);
        if (status != null) {
            event.setExitStatus(status.toShellCode()).setExitedAt(timestamp(status.exitedAt()));
        }
        emit(TaskTopics.DELETE, event.build());
    }

    void execAdded(String id, String execId) {
        emit(TaskTopics.EXEC_ADDED, TaskExecAdded.newBuilder().setContainerId(id).setExecId(execId).build());
    }

    void execStarted(String id, String execId, int pid) {
        emit(TaskTopics.EXEC_STARTED,
                TaskExecStarted.newBuilder().setContainerId(id).setExecId(execId).setPid(pid).build());
    }

    void paused(String id) {
        emit(TaskTopics.PAUSED, TaskPaused.newBuilder().setContainerId(id).build());
    }

    void resumed(String id) {
        emit(TaskTopics.RESUMED, TaskResumed.newBuilder().setContainerId(id).build());
    }

    private void emit(String topic, Message event) {
        try {
            exchange.emit(namespace, topic, event);
        } catch (RuntimeException e) {
            log.warn("[{}] event {} not published", namespace, topic, e);
        }
    }

    private static Timestamp timestamp(Instant at) {
        return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
    }
}
