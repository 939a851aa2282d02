package dev.berth.tasks.remote;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.shims.internal.v2.proto.runc.Options;
import dev.berth.shims.internal.v2.proto.runc.ProcessDetails;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Type URLs exactly as containerd's typeurl registry writes them (spec §1.5), never protobuf-java's. */
class TypeUrlsUnitTest {
    @Test
    void protobufPayloadsCarryTheBareFullNameNotTheGooglePrefix() {
        Any options = TypeUrls.message(Options.getDefaultInstance());
        assertThat(options.getTypeUrl()).isEqualTo("containerd.runc.v1.Options");
        assertThat(options.getValue().isEmpty()).as("ctr's empty Options is zero bytes").isTrue();
        assertThat(TypeUrls.message(ProcessDetails.newBuilder().setExecId("e1").build()).getTypeUrl())
                .isEqualTo(TypeUrls.RUNC_PROCESS_DETAILS);
        assertThat(TypeUrls.message(TaskExit.getDefaultInstance()).getTypeUrl())
                .isEqualTo("containerd.events.TaskExit").isEqualTo(TypeUrls.TASK_EXIT);
        // What Any.pack would have produced, and what containerd refuses at Tasks/Create.
        assertThat(Any.pack(Options.getDefaultInstance()).getTypeUrl()).startsWith("type.googleapis.com/");
    }

    @Test
    void ociJsonGoesUnderTheTypesContainerdIoUrls() {
        Any spec = TypeUrls.json(TypeUrls.SPEC, "{\"ociVersion\":\"1.0.2-dev\"}");
        assertThat(spec.getTypeUrl()).isEqualTo("types.containerd.io/opencontainers/runtime-spec/1/Spec");
        assertThat(spec.getValue().toString(StandardCharsets.UTF_8)).isEqualTo("{\"ociVersion\":\"1.0.2-dev\"}");
        assertThat(TypeUrls.PROCESS).isEqualTo("types.containerd.io/opencontainers/runtime-spec/1/Process");
    }

    @Test
    void isComparesTheWholeUrlSoAPrefixedOneDoesNotMatch() {
        Any bare = Any.newBuilder().setTypeUrl("containerd.events.TaskExit").build();
        Any prefixed = Any.newBuilder().setTypeUrl("type.googleapis.com/containerd.events.TaskExit").build();
        assertThat(TypeUrls.is(bare, TypeUrls.TASK_EXIT)).isTrue();
        assertThat(TypeUrls.is(prefixed, TypeUrls.TASK_EXIT)).isFalse();
        // protobuf-java's own check reads the name after the last '/': it would say no to containerd's bare URL.
        assertThat(bare.is(TaskExit.class)).isFalse();
    }
}
