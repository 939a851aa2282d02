package dev.berth.events;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.berth.events.proto.containerd.events.ContainerCreate;
import dev.berth.events.proto.containerd.events.ContainerDelete;
import dev.berth.events.proto.containerd.events.ContainerUpdate;
import dev.berth.events.proto.containerd.events.NamespaceCreate;
import dev.berth.events.proto.containerd.events.NamespaceDelete;
import dev.berth.events.proto.containerd.events.NamespaceUpdate;
import dev.berth.events.proto.containerd.events.TaskCheckpointed;
import dev.berth.events.proto.containerd.events.TaskCreate;
import dev.berth.events.proto.containerd.events.TaskDelete;
import dev.berth.events.proto.containerd.events.TaskExecAdded;
import dev.berth.events.proto.containerd.events.TaskExecStarted;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.events.proto.containerd.events.TaskIO;
import dev.berth.events.proto.containerd.events.TaskOOM;
import dev.berth.events.proto.containerd.events.TaskPaused;
import dev.berth.events.proto.containerd.events.TaskResumed;
import dev.berth.events.proto.containerd.events.TaskStart;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The containerd event types Berth decodes, by their bare type URL (as containerd registers them). */
final class EventRegistry {
    private static final Map<String, Parser<? extends Message>> PARSERS = new HashMap<>();

    static {
        for (Message m : List.<Message>of(TaskCreate.getDefaultInstance(), TaskStart.getDefaultInstance(),
                TaskDelete.getDefaultInstance(), TaskIO.getDefaultInstance(), TaskExit.getDefaultInstance(),
                TaskOOM.getDefaultInstance(), TaskExecAdded.getDefaultInstance(),
                TaskExecStarted.getDefaultInstance(), TaskPaused.getDefaultInstance(),
                TaskResumed.getDefaultInstance(), TaskCheckpointed.getDefaultInstance(),
                ContainerCreate.getDefaultInstance(), ContainerUpdate.getDefaultInstance(),
                ContainerDelete.getDefaultInstance(), NamespaceCreate.getDefaultInstance(),
                NamespaceUpdate.getDefaultInstance(), NamespaceDelete.getDefaultInstance())) {
            PARSERS.put(m.getDescriptorForType().getFullName(), m.getParserForType());
        }
    }

    private EventRegistry() {
    }

    /**
     * The payload decoded, or null: containerd looks inside only payloads whose type URL is exactly a registered
     * event type (no {@code type.googleapis.com/} prefix), and so do we.
     */
    static @Nullable Message decode(Any any) {
        Parser<? extends Message> parser = PARSERS.get(any.getTypeUrl());
        if (parser == null) {
            return null;
        }
        try {
            return parser.parseFrom(any.getValue());
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }
}
