package dev.berth.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Timestamp;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.events.proto.containerd.events.TaskStart;
import dev.berth.events.proto.containerd.services.events.v1.Envelope;
import dev.berth.events.proto.containerd.types.Mount;
import org.junit.jupiter.api.Test;

class EventTypesTest {
    static final TaskExit EXIT = TaskExit.newBuilder()
            .setContainerId("web").setId("web").setPid(42).setExitStatus(137)
            .setExitedAt(Timestamp.newBuilder().setSeconds(1_700_000_000L))
            .build();

    @Test
    void typeUrlOfTaskExitIsTheBareFullName() {
        assertThat(EventTypes.typeUrl(EXIT)).isEqualTo("containerd.events.TaskExit");
    }

    @Test
    void typeUrlUsesTheProtoPackageNotTheJavaPackage() {
        assertThat(EventTypes.typeUrl(Mount.getDefaultInstance())).isEqualTo("containerd.types.Mount");
        assertThat(EventTypes.typeUrl(Envelope.getDefaultInstance()))
                .isEqualTo("containerd.services.events.v1.Envelope");
    }

    @Test
    void packUsesTheBareTypeUrlAndTheSerializedMessage() {
        Any any = EventTypes.pack(EXIT);

        assertThat(any.getTypeUrl()).isEqualTo("containerd.events.TaskExit");
        assertThat(any.getValue()).isEqualTo(EXIT.toByteString());
    }

    @Test
    void packThenUnpackGivesBackTheMessage() {
        assertThat(EventTypes.unpack(EventTypes.pack(EXIT), TaskExit.class)).isEqualTo(EXIT);
    }

    @Test
    void unpackAcceptsTheGoogleStylePrefixedTypeUrl() {
        Any any = Any.pack(EXIT);
        assertThat(any.getTypeUrl()).isEqualTo("type.googleapis.com/containerd.events.TaskExit");

        assertThat(EventTypes.unpack(any, TaskExit.class)).isEqualTo(EXIT);
    }

    @Test
    void unpackOfAnotherTypeFailsWithInvalidArgument() {
        Any start = EventTypes.pack(TaskStart.newBuilder().setContainerId("web").setPid(42).build());

        Throwable error = catchThrowable(() -> EventTypes.unpack(start, TaskExit.class));

        assertThat(Errors.is(error, ErrorKind.INVALID_ARGUMENT)).as("%s is INVALID_ARGUMENT", error).isTrue();
    }

    @Test
    void unpackRejectsAnyPrefixOtherThanGooglesWithInvalidArgument() {
        Any any = EventTypes.pack(EXIT).toBuilder().setTypeUrl("example.com/containerd.events.TaskExit").build();

        Throwable error = catchThrowable(() -> EventTypes.unpack(any, TaskExit.class));

        assertThat(Errors.is(error, ErrorKind.INVALID_ARGUMENT)).as("%s is INVALID_ARGUMENT", error).isTrue();
    }

    @Test
    void unpackOfAMalformedPayloadFailsWithInvalidArgumentAndKeepsTheParseError() {
        // field 1, length-delimited, claims 5 bytes but none follow
        Any truncated = Any.newBuilder()
                .setTypeUrl("containerd.events.TaskExit")
                .setValue(ByteString.copyFrom(new byte[] {0x0a, 0x05}))
                .build();

        Throwable error = catchThrowable(() -> EventTypes.unpack(truncated, TaskExit.class));

        assertThat(Errors.is(error, ErrorKind.INVALID_ARGUMENT)).as("%s is INVALID_ARGUMENT", error).isTrue();
        assertThat(error.getCause()).isNotNull();
    }

    @Test
    void unpackIntoAClassThatIsNotGeneratedFailsWithInvalidArgument() {
        Throwable error = catchThrowable(() -> EventTypes.unpack(EventTypes.pack(EXIT), DynamicMessage.class));

        assertThat(Errors.is(error, ErrorKind.INVALID_ARGUMENT)).as("%s is INVALID_ARGUMENT", error).isTrue();
    }
}
