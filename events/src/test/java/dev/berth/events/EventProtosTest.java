package dev.berth.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
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
import dev.berth.events.proto.containerd.services.events.v1.Envelope;
import dev.berth.events.proto.containerd.services.events.v1.ForwardRequest;
import dev.berth.events.proto.containerd.services.events.v1.PublishRequest;
import dev.berth.events.proto.containerd.services.events.v1.SubscribeRequest;
import dev.berth.events.proto.containerd.types.Mount;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The generated messages match containerd 1.6 on the wire (shared/spec/containerd-grpc-api.md §2.1, §2.4). */
class EventProtosTest {
    static final Timestamp EXITED_AT = Timestamp.newBuilder().setSeconds(1_700_000_000L).setNanos(123).build();
    static final Mount MOUNT = Mount.newBuilder()
            .setType("bind").setSource("/src").setTarget("/dst").addOptions("rbind").addOptions("ro").build();
    static final TaskIO IO = TaskIO.newBuilder()
            .setStdin("/run/fifo/in").setStdout("/run/fifo/out").setStderr("/run/fifo/err").setTerminal(true).build();
    static final TaskExit EXIT = TaskExit.newBuilder()
            .setContainerId("web").setId("web").setPid(42).setExitStatus(137).setExitedAt(EXITED_AT).build();
    static final ContainerCreate.Runtime RUNTIME = ContainerCreate.Runtime.newBuilder()
            .setName("io.containerd.runc.v2")
            .setOptions(Any.newBuilder().setTypeUrl("containerd.runc.v1.Options").setValue(ByteString.copyFromUtf8("x")))
            .build();
    static final Envelope ENVELOPE = Envelope.newBuilder()
            .setTimestamp(EXITED_AT).setNamespace("default").setTopic("/tasks/exit").setEvent(EventTypes.pack(EXIT))
            .build();

    /** One fully populated instance of every message, so a round trip exercises every field. */
    static Stream<Message> everyMessage() {
        return Stream.of(
                MOUNT,
                TaskCreate.newBuilder().setContainerId("web").setBundle("/state/io.containerd.runtime.v2.task/ns/web")
                        .addRootfs(MOUNT).setIo(IO).setCheckpoint("/cp").setPid(7).build(),
                IO,
                TaskStart.newBuilder().setContainerId("web").setPid(7).build(),
                EXIT,
                TaskDelete.newBuilder().setContainerId("web").setPid(7).setExitStatus(1).setExitedAt(EXITED_AT)
                        .setId("exec1").build(),
                TaskOOM.newBuilder().setContainerId("web").build(),
                TaskExecAdded.newBuilder().setContainerId("web").setExecId("exec1").build(),
                TaskExecStarted.newBuilder().setContainerId("web").setExecId("exec1").setPid(8).build(),
                TaskPaused.newBuilder().setContainerId("web").build(),
                TaskResumed.newBuilder().setContainerId("web").build(),
                TaskCheckpointed.newBuilder().setContainerId("web").setCheckpoint("/cp").build(),
                ContainerCreate.newBuilder().setId("web").setImage("docker.io/library/busybox:latest")
                        .setRuntime(RUNTIME).build(),
                RUNTIME,
                ContainerUpdate.newBuilder().setId("web").setImage("busybox").putLabels("a", "b")
                        .setSnapshotKey("web-snap").build(),
                ContainerDelete.newBuilder().setId("web").build(),
                NamespaceCreate.newBuilder().setName("ns").putLabels("a", "b").build(),
                NamespaceUpdate.newBuilder().setName("ns").putLabels("a", "c").build(),
                NamespaceDelete.newBuilder().setName("ns").build(),
                ENVELOPE,
                PublishRequest.newBuilder().setTopic("/tasks/exit").setEvent(EventTypes.pack(EXIT)).build(),
                ForwardRequest.newBuilder().setEnvelope(ENVELOPE).build(),
                SubscribeRequest.newBuilder().addFilters("topic==\"/tasks/exit\"").addFilters("namespace==ns").build());
    }

    @ParameterizedTest
    @MethodSource("everyMessage")
    void everyMessageRoundTripsThroughBytes(Message message) throws InvalidProtocolBufferException {
        for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
            if (field.isRepeated()) {
                assertThat(message.getRepeatedFieldCount(field)).as("%s is populated", field.getFullName())
                        .isPositive();
            } else {
                assertThat(message.hasField(field)).as("%s is populated", field.getFullName()).isTrue();
            }
        }

        Message decoded = message.getParserForType().parseFrom(message.toByteArray());

        assertThat(decoded).isEqualTo(message);
    }

    static Stream<Arguments> schemas() {
        return Stream.of(
                schema(Mount.getDescriptor(), "containerd.types.Mount",
                        "type=1 string", "source=2 string", "target=3 string", "options=4 repeated string"),
                schema(TaskCreate.getDescriptor(), "containerd.events.TaskCreate",
                        "container_id=1 string", "bundle=2 string", "rootfs=3 repeated containerd.types.Mount",
                        "io=4 containerd.events.TaskIO", "checkpoint=5 string", "pid=6 uint32"),
                schema(TaskIO.getDescriptor(), "containerd.events.TaskIO",
                        "stdin=1 string", "stdout=2 string", "stderr=3 string", "terminal=4 bool"),
                schema(TaskStart.getDescriptor(), "containerd.events.TaskStart",
                        "container_id=1 string", "pid=2 uint32"),
                schema(TaskExit.getDescriptor(), "containerd.events.TaskExit",
                        "container_id=1 string", "id=2 string", "pid=3 uint32", "exit_status=4 uint32",
                        "exited_at=5 google.protobuf.Timestamp"),
                schema(TaskDelete.getDescriptor(), "containerd.events.TaskDelete",
                        "container_id=1 string", "pid=2 uint32", "exit_status=3 uint32",
                        "exited_at=4 google.protobuf.Timestamp", "id=5 string"),
                schema(TaskOOM.getDescriptor(), "containerd.events.TaskOOM", "container_id=1 string"),
                schema(TaskExecAdded.getDescriptor(), "containerd.events.TaskExecAdded",
                        "container_id=1 string", "exec_id=2 string"),
                schema(TaskExecStarted.getDescriptor(), "containerd.events.TaskExecStarted",
                        "container_id=1 string", "exec_id=2 string", "pid=3 uint32"),
                schema(TaskPaused.getDescriptor(), "containerd.events.TaskPaused", "container_id=1 string"),
                schema(TaskResumed.getDescriptor(), "containerd.events.TaskResumed", "container_id=1 string"),
                schema(TaskCheckpointed.getDescriptor(), "containerd.events.TaskCheckpointed",
                        "container_id=1 string", "checkpoint=2 string"),
                schema(ContainerCreate.getDescriptor(), "containerd.events.ContainerCreate",
                        "id=1 string", "image=2 string", "runtime=3 containerd.events.ContainerCreate.Runtime"),
                schema(ContainerCreate.Runtime.getDescriptor(), "containerd.events.ContainerCreate.Runtime",
                        "name=1 string", "options=2 google.protobuf.Any"),
                schema(ContainerUpdate.getDescriptor(), "containerd.events.ContainerUpdate",
                        "id=1 string", "image=2 string", "labels=3 map<string, string>", "snapshot_key=4 string"),
                schema(ContainerDelete.getDescriptor(), "containerd.events.ContainerDelete", "id=1 string"),
                schema(NamespaceCreate.getDescriptor(), "containerd.events.NamespaceCreate",
                        "name=1 string", "labels=2 map<string, string>"),
                schema(NamespaceUpdate.getDescriptor(), "containerd.events.NamespaceUpdate",
                        "name=1 string", "labels=2 map<string, string>"),
                schema(NamespaceDelete.getDescriptor(), "containerd.events.NamespaceDelete", "name=1 string"),
                schema(Envelope.getDescriptor(), "containerd.services.events.v1.Envelope",
                        "timestamp=1 google.protobuf.Timestamp", "namespace=2 string", "topic=3 string",
                        "event=4 google.protobuf.Any"),
                schema(PublishRequest.getDescriptor(), "containerd.services.events.v1.PublishRequest",
                        "topic=1 string", "event=2 google.protobuf.Any"),
                schema(ForwardRequest.getDescriptor(), "containerd.services.events.v1.ForwardRequest",
                        "envelope=1 containerd.services.events.v1.Envelope"),
                schema(SubscribeRequest.getDescriptor(), "containerd.services.events.v1.SubscribeRequest",
                        "filters=1 repeated string"));
    }

    private static Arguments schema(Descriptor descriptor, String fullName, String... fields) {
        return Arguments.of(descriptor, fullName, List.of(fields));
    }

    @ParameterizedTest
    @MethodSource("schemas")
    void everyMessageHasContainerdsFullNameAndExactlyTheSpecifiedFields(
            Descriptor descriptor, String fullName, List<String> fields) {
        assertThat(descriptor.getFullName()).isEqualTo(fullName);
        assertThat(descriptor.getFields().stream().map(EventProtosTest::describe).collect(Collectors.toList()))
                .containsExactlyInAnyOrderElementsOf(fields);
    }

    @Test
    void taskExitFieldNumbersAreContainerds() {
        Descriptor d = TaskExit.getDescriptor();

        assertThat(d.findFieldByName("container_id").getNumber()).isEqualTo(1);
        assertThat(d.findFieldByName("id").getNumber()).isEqualTo(2);
        assertThat(d.findFieldByName("pid").getNumber()).isEqualTo(3);
        assertThat(d.findFieldByName("exit_status").getNumber()).isEqualTo(4);
        assertThat(d.findFieldByName("exited_at").getNumber()).isEqualTo(5);
    }

    @Test
    void taskDeleteFieldNumbersAreContainerdsWithIdLast() {
        Descriptor d = TaskDelete.getDescriptor();

        assertThat(d.findFieldByName("container_id").getNumber()).isEqualTo(1);
        assertThat(d.findFieldByName("pid").getNumber()).isEqualTo(2);
        assertThat(d.findFieldByName("exit_status").getNumber()).isEqualTo(3);
        assertThat(d.findFieldByName("exited_at").getNumber()).isEqualTo(4);
        assertThat(d.findFieldByName("id").getNumber()).isEqualTo(5);
    }

    @Test
    void taskCreateFieldNumbersAreContainerds() {
        Descriptor d = TaskCreate.getDescriptor();

        assertThat(d.findFieldByName("container_id").getNumber()).isEqualTo(1);
        assertThat(d.findFieldByName("bundle").getNumber()).isEqualTo(2);
        assertThat(d.findFieldByName("rootfs").getNumber()).isEqualTo(3);
        assertThat(d.findFieldByName("io").getNumber()).isEqualTo(4);
        assertThat(d.findFieldByName("checkpoint").getNumber()).isEqualTo(5);
        assertThat(d.findFieldByName("pid").getNumber()).isEqualTo(6);
    }

    @Test
    void taskStartFieldNumbersAreContainerds() {
        Descriptor d = TaskStart.getDescriptor();

        assertThat(d.findFieldByName("container_id").getNumber()).isEqualTo(1);
        assertThat(d.findFieldByName("pid").getNumber()).isEqualTo(2);
    }

    @Test
    void taskExecStartedFieldNumbersAreContainerds() {
        Descriptor d = TaskExecStarted.getDescriptor();

        assertThat(d.findFieldByName("container_id").getNumber()).isEqualTo(1);
        assertThat(d.findFieldByName("exec_id").getNumber()).isEqualTo(2);
        assertThat(d.findFieldByName("pid").getNumber()).isEqualTo(3);
    }

    @Test
    void envelopeFieldNumbersAreContainerds() {
        Descriptor d = Envelope.getDescriptor();

        assertThat(d.findFieldByName("timestamp").getNumber()).isEqualTo(1);
        assertThat(d.findFieldByName("namespace").getNumber()).isEqualTo(2);
        assertThat(d.findFieldByName("topic").getNumber()).isEqualTo(3);
        assertThat(d.findFieldByName("event").getNumber()).isEqualTo(4);
    }

    // {container_id:"c", id:"c", pid:42, exit_status:137}, encoded by hand: each tag byte is
    // (field number << 3) | wire type, with wire type 2 (length-delimited) for strings and 0 (varint) for ints.
    private static final byte[] TASK_EXIT_WIRE = {
        0x0a, 0x01, 'c',                 // field 1, length 1, "c"
        0x12, 0x01, 'c',                 // field 2, length 1, "c"
        0x18, 0x2a,                      // field 3, varint 42
        0x20, (byte) 0x89, 0x01,         // field 4, varint 137 = 0b1_0001001: low 7 bits with the continuation bit, then 1
    };

    @Test
    void handEncodedTaskExitBytesDecodeWithTheGeneratedParser() throws InvalidProtocolBufferException {
        TaskExit exit = TaskExit.parseFrom(TASK_EXIT_WIRE);

        assertThat(exit.getContainerId()).isEqualTo("c");
        assertThat(exit.getId()).isEqualTo("c");
        assertThat(exit.getPid()).isEqualTo(42);
        assertThat(exit.getExitStatus()).isEqualTo(137);
        assertThat(exit.hasExitedAt()).isFalse();
        assertThat(exit.getUnknownFields().asMap()).isEmpty();
    }

    @Test
    void generatedTaskExitEncodesToTheHandEncodedBytes() {
        TaskExit exit = TaskExit.newBuilder().setContainerId("c").setId("c").setPid(42).setExitStatus(137).build();

        assertThat(exit.toByteArray()).containsExactly(TASK_EXIT_WIRE);
    }

    private static String describe(FieldDescriptor field) {
        if (field.isMapField()) {
            Descriptor entry = field.getMessageType();
            return String.format("%s=%d map<%s, %s>", field.getName(), field.getNumber(),
                    typeName(entry.findFieldByName("key")), typeName(entry.findFieldByName("value")));
        }
        return String.format("%s=%d %s%s", field.getName(), field.getNumber(),
                field.isRepeated() ? "repeated " : "", typeName(field));
    }

    private static String typeName(FieldDescriptor field) {
        return field.getType() == FieldDescriptor.Type.MESSAGE
                ? field.getMessageType().getFullName()
                : field.getType().name().toLowerCase(Locale.ROOT);
    }
}
