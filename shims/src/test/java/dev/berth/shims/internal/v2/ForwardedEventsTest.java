package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.berth.core.Envelope;
import dev.berth.events.TaskTopics;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.events.proto.containerd.events.TaskOOM;
import dev.berth.events.proto.containerd.events.TaskStart;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ForwardedEventsTest {
    final ForwardedEvents forwarded = new ForwardedEvents();

    static Envelope envelope(String namespace, String topic, Message event) {
        return new Envelope(Instant.now(), namespace, topic,
                Any.newBuilder().setTypeUrl(event.getDescriptorForType().getFullName())
                        .setValue(event.toByteString()).build());
    }

    static Envelope exit(String namespace, String id) {
        return envelope(namespace, TaskTopics.EXIT, TaskExit.newBuilder().setContainerId(id).setId(id)
                .setPid(7).setExitStatus(3).build());
    }

    @Test
    void aHeldTasksLifecycleEventsAreDroppedAndEverythingElsePasses() {
        forwarded.hold("ns", "web");
        assertThat(forwarded.accept(exit("ns", "web"))).isFalse();
        assertThat(forwarded.accept(envelope("ns", TaskTopics.START,
                TaskStart.newBuilder().setContainerId("web").setPid(9).build()))).isFalse();
        // another task, another namespace, another topic
        assertThat(forwarded.accept(exit("ns", "db"))).isTrue();
        assertThat(forwarded.accept(exit("other", "web"))).isTrue();
        assertThat(forwarded.accept(envelope("ns", TaskTopics.OOM,
                TaskOOM.newBuilder().setContainerId("web").build()))).isTrue();
    }

    @Test
    void holdsAreCountedSoAReusedIdStaysHeldUntilItsOwnRelease() {
        forwarded.hold("ns", "web");
        forwarded.hold("ns", "web"); // a new task with the id, before the old one's delayed release
        forwarded.release("ns", "web");
        assertThat(forwarded.accept(exit("ns", "web"))).isFalse();
        forwarded.release("ns", "web");
        assertThat(forwarded.accept(exit("ns", "web"))).isTrue();
        forwarded.release("ns", "web"); // one too many changes nothing
        assertThat(forwarded.accept(exit("ns", "web"))).isTrue();
    }

    @Test
    void theContainerIdIsReadFromFieldOneWhateverComesBeforeIt() {
        ByteString event = TaskExit.newBuilder().setContainerId("web").setPid(7).setExitStatus(1).build()
                .toByteString();
        assertThat(ForwardedEvents.containerId(event)).isEqualTo("web");
        // fields out of the usual order: pid (2) first, then container_id (1)
        ByteString reordered = ByteString.copyFrom(new byte[] {0x10, 0x07, 0x0a, 0x01, 'x'});
        assertThat(ForwardedEvents.containerId(reordered)).isEqualTo("x");
        assertThat(ForwardedEvents.containerId(ByteString.copyFrom(new byte[] {(byte) 0xff}))).isNull();
        assertThat(ForwardedEvents.containerId(ByteString.EMPTY)).isNull();
    }
}
