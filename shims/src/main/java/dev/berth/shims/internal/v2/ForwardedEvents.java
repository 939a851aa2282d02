package dev.berth.shims.internal.v2;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.berth.core.Envelope;
import dev.berth.events.TaskTopics;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Decides which events the shims forward reach the exchange. The lifecycle events of a task this manager holds are
 * published by the task manager that drives it, in guaranteed order and once; the shim's copies of them (sent
 * asynchronously, retried out of order, lost when the shim dies) would be duplicates, so they are dropped. Every
 * other event is forwarded: other topics ({@code /tasks/oom}, ...) and any event of a task nobody here holds (a
 * container left running by a previous owner, before it is restored).
 */
final class ForwardedEvents {
    static final Set<String> LIFECYCLE = Set.of(TaskTopics.CREATE, TaskTopics.START, TaskTopics.EXIT,
            TaskTopics.DELETE, TaskTopics.EXEC_ADDED, TaskTopics.EXEC_STARTED, TaskTopics.PAUSED,
            TaskTopics.RESUMED);

    /** How many holds each {@code namespace/id} has: a new task may reuse an id before the old one's release. */
    private final Map<String, Integer> held = new ConcurrentHashMap<>();

    /** The task {@code namespace/id} is held: its lifecycle events are someone else's to publish. */
    void hold(String namespace, String id) {
        held.merge(key(namespace, id), 1, Integer::sum);
    }

    /**
     * One hold of the task ends (deleted, lost or detached). Call it a little after the shim is gone: an event the
     * shim sent just before it exited may still be on its way.
     */
    void release(String namespace, String id) {
        held.computeIfPresent(key(namespace, id), (k, n) -> n > 1 ? n - 1 : null);
    }

    /** Whether the event goes on to the exchange. Non-blocking: it runs on the events socket's loop. */
    boolean accept(Envelope envelope) {
        if (!LIFECYCLE.contains(envelope.topic()) || held.isEmpty()) {
            return true;
        }
        String id = containerId(envelope.event().getValue());
        return id == null || !held.containsKey(key(envelope.namespace(), id));
    }

    private static String key(String namespace, String id) {
        return namespace + '/' + id;
    }

    /** Field 1 ({@code container_id}) of every task lifecycle event; null if absent or unreadable. */
    static @Nullable String containerId(ByteString event) {
        try {
            CodedInputStream in = event.newCodedInput();
            int tag;
            while ((tag = in.readTag()) != 0) {
                if (WireFormat.getTagFieldNumber(tag) == 1
                        && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    return in.readString();
                }
                in.skipField(tag);
            }
            return null;
        } catch (IOException e) {
            return null;
        }
    }
}
