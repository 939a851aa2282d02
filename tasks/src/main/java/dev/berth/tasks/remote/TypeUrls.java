package dev.berth.tasks.remote;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import java.nio.charset.StandardCharsets;

/**
 * containerd's type URLs (spec §1.5): bare full message names for protobuf payloads, {@code types.containerd.io/...}
 * for OCI JSON. Never {@code Any.pack} (it adds {@code type.googleapis.com/}, and the daemon then fails every later
 * Tasks/Create of the container) and never {@code Any.unpack} (protobuf-java reads the name after the last
 * {@code /}): build and compare the URL by hand.
 */
final class TypeUrls {
    static final String SPEC = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
    static final String PROCESS = "types.containerd.io/opencontainers/runtime-spec/1/Process";
    static final String LINUX_RESOURCES = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";
    static final String RUNC_OPTIONS = "containerd.runc.v1.Options";
    static final String RUNC_PROCESS_DETAILS = "containerd.runc.v1.ProcessDetails";
    static final String EVENT_PREFIX = "containerd.events.";
    static final String TASK_EXIT = EVENT_PREFIX + "TaskExit";

    private TypeUrls() {
    }

    /** OCI JSON under its {@code types.containerd.io} URL. */
    static Any json(String url, String json) {
        return Any.newBuilder().setTypeUrl(url).setValue(ByteString.copyFrom(json, StandardCharsets.UTF_8)).build();
    }

    /** A protobuf payload under its bare full name, the form containerd's typeurl registry knows. */
    static Any message(Message message) {
        return Any.newBuilder()
                .setTypeUrl(message.getDescriptorForType().getFullName())
                .setValue(message.toByteString())
                .build();
    }

    /** Whether {@code any} carries the payload {@code url}, by exact comparison. */
    static boolean is(Any any, String url) {
        return any.getTypeUrl().equals(url);
    }
}
