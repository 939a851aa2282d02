package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor.Type;
import com.google.protobuf.Timestamp;
import dev.berth.events.proto.containerd.types.Mount;
import dev.berth.shims.internal.v2.proto.ConnectRequest;
import dev.berth.shims.internal.v2.proto.ConnectResponse;
import dev.berth.shims.internal.v2.proto.CreateTaskRequest;
import dev.berth.shims.internal.v2.proto.DeleteResponse;
import dev.berth.shims.internal.v2.proto.ExecProcessRequest;
import dev.berth.shims.internal.v2.proto.KillRequest;
import dev.berth.shims.internal.v2.proto.PidsResponse;
import dev.berth.shims.internal.v2.proto.ShimProto;
import dev.berth.shims.internal.v2.proto.StartRequest;
import dev.berth.shims.internal.v2.proto.StartResponse;
import dev.berth.shims.internal.v2.proto.StateResponse;
import dev.berth.shims.internal.v2.proto.UpdateTaskRequest;
import dev.berth.shims.internal.v2.proto.WaitResponse;
import dev.berth.shims.internal.v2.proto.types.ProcessInfo;
import dev.berth.shims.internal.v2.proto.types.Status;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The generated messages against the tables and byte dumps of shared/spec/shim-v2-ttrpc.md §1.9, §2 and §4. */
class ShimProtoTest {

    static Map<String, Integer> fields(Descriptor descriptor) {
        Map<String, Integer> fields = new LinkedHashMap<>();
        for (FieldDescriptor field : descriptor.getFields()) {
            fields.put(field.getName(), field.getNumber());
        }
        return fields;
    }

    static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }

    @Test
    void createTaskRequestHasTheFieldsOfSpecTable41() {
        assertThat(fields(CreateTaskRequest.getDescriptor())).containsExactlyInAnyOrderEntriesOf(Map.of(
                "id", 1, "bundle", 2, "rootfs", 3, "terminal", 4, "stdin", 5, "stdout", 6, "stderr", 7,
                "checkpoint", 8, "parent_checkpoint", 9, "options", 10));
        FieldDescriptor rootfs = CreateTaskRequest.getDescriptor().findFieldByName("rootfs");
        assertThat(rootfs.isRepeated()).isTrue();
        // The one Mount type, generated in events, not a copy.
        assertThat(rootfs.getMessageType()).isSameAs(Mount.getDescriptor());
        assertThat(rootfs.getMessageType().getFullName()).isEqualTo("containerd.types.Mount");
        assertThat(CreateTaskRequest.getDescriptor().findFieldByName("options").getMessageType().getFullName())
                .isEqualTo("google.protobuf.Any");
    }

    @Test
    void startAndWaitMessagesHaveTheSpecFieldNumbers() {
        assertThat(fields(StartRequest.getDescriptor())).containsExactlyInAnyOrderEntriesOf(Map.of("id", 1, "exec_id", 2));
        assertThat(fields(StartResponse.getDescriptor())).containsExactlyInAnyOrderEntriesOf(Map.of("pid", 1));
        assertThat(StartResponse.getDescriptor().findFieldByName("pid").getType()).isEqualTo(Type.UINT32);
        assertThat(fields(WaitResponse.getDescriptor()))
                .containsExactlyInAnyOrderEntriesOf(Map.of("exit_status", 1, "exited_at", 2));
        assertThat(WaitResponse.getDescriptor().findFieldByName("exited_at").getMessageType().getFullName())
                .isEqualTo("google.protobuf.Timestamp");
    }

    @Test
    void killExecDeleteAndConnectMessagesHaveTheSpecFieldNumbers() {
        assertThat(fields(KillRequest.getDescriptor()))
                .containsExactlyInAnyOrderEntriesOf(Map.of("id", 1, "exec_id", 2, "signal", 3, "all", 4));
        assertThat(fields(ExecProcessRequest.getDescriptor())).containsExactlyInAnyOrderEntriesOf(Map.of(
                "id", 1, "exec_id", 2, "terminal", 3, "stdin", 4, "stdout", 5, "stderr", 6, "spec", 7));
        assertThat(fields(DeleteResponse.getDescriptor()))
                .containsExactlyInAnyOrderEntriesOf(Map.of("pid", 1, "exit_status", 2, "exited_at", 3));
        assertThat(fields(ConnectResponse.getDescriptor()))
                .containsExactlyInAnyOrderEntriesOf(Map.of("shim_pid", 1, "task_pid", 2, "version", 3));
        assertThat(fields(UpdateTaskRequest.getDescriptor()))
                .containsExactlyInAnyOrderEntriesOf(Map.of("id", 1, "resources", 2, "annotations", 3));
    }

    @Test
    void stateResponseHasTheElevenFieldsOfTheSpecAndTheV1TypesStatus() {
        Map<String, Integer> expected = new LinkedHashMap<>();
        List.of("id", "bundle", "pid", "status", "stdin", "stdout", "stderr", "terminal", "exit_status", "exited_at",
                "exec_id").forEach(name -> expected.put(name, expected.size() + 1));
        assertThat(fields(StateResponse.getDescriptor())).containsExactlyInAnyOrderEntriesOf(expected);
        assertThat(StateResponse.getDescriptor().findFieldByName("status").getEnumType().getFullName())
                .isEqualTo("containerd.v1.types.Status");
        assertThat(Status.CREATED.getNumber()).isEqualTo(1);
        assertThat(Status.RUNNING.getNumber()).isEqualTo(2);
        assertThat(Status.STOPPED.getNumber()).isEqualTo(3);
        assertThat(Status.PAUSED.getNumber()).isEqualTo(4);
        assertThat(Status.PAUSING.getNumber()).isEqualTo(5);
    }

    @Test
    void processInfoLivesInContainerdV1Types() {
        assertThat(ProcessInfo.getDescriptor().getFullName()).isEqualTo("containerd.v1.types.ProcessInfo");
        assertThat(fields(ProcessInfo.getDescriptor())).containsExactlyInAnyOrderEntriesOf(Map.of("pid", 1, "info", 2));
        assertThat(PidsResponse.getDescriptor().findFieldByName("processes").getNumber()).isEqualTo(1);
    }

    @Test
    void theServiceIsContainerdTaskV2TaskWithItsSeventeenMethods() {
        var service = ShimProto.getDescriptor().findServiceByName("Task");
        assertThat(service.getFullName()).isEqualTo(ShimTaskClient.SERVICE);
        assertThat(service.getMethods()).extracting(m -> m.getName()).containsExactlyInAnyOrder("State", "Create",
                "Start", "Delete", "Pids", "Pause", "Resume", "Checkpoint", "Kill", "Exec", "ResizePty", "CloseIO",
                "Update", "Wait", "Stats", "Connect", "Shutdown");
    }

    @Test
    void connectRequestEncodesAsInTheObservedDump() {
        byte[] expected = hex("0a 0b " + HexFormat.of().formatHex("sample-task".getBytes(StandardCharsets.US_ASCII)));
        assertThat(ConnectRequest.newBuilder().setId("sample-task").build().toByteArray()).isEqualTo(expected);
    }

    @Test
    void connectResponseFromTheObservedDumpDecodes() throws Exception {
        ConnectResponse response = ConnectResponse.parseFrom(hex("08 ad 34"));
        assertThat(response.getShimPid()).isEqualTo(6701);
        assertThat(response.getTaskPid()).isZero();
        assertThat(response.toByteArray()).isEqualTo(hex("08 ad 34"));
    }

    @Test
    void aCleanExitWaitResponseCarriesOnlyTheTimestampAndDecodesStatusZero() throws Exception {
        // exit_status 0 is omitted; exited_at is field 2 holding Go's zero time as a 10-byte negative varint.
        WaitResponse response = WaitResponse.parseFrom(hex("12 0b 08 80 92 b8 c3 98 fe ff ff ff 01"));
        assertThat(response.getExitStatus()).isZero();
        assertThat(response.getExitedAt().getSeconds()).isEqualTo(Timestamps.GO_ZERO_SECONDS);
        assertThat(Timestamps.toInstant(response.getExitedAt())).isEmpty();
    }

    @Test
    void goZeroTimeEncodesAsTheObservedVarint() {
        Timestamp zero = Timestamp.newBuilder().setSeconds(Timestamps.GO_ZERO_SECONDS).build();
        assertThat(zero.toByteArray()).isEqualTo(hex("08 80 92 b8 c3 98 fe ff ff ff 01"));
    }
}
