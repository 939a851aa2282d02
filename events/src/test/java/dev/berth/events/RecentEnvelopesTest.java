package dev.berth.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.berth.core.Envelope;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class RecentEnvelopesTest {
    static Envelope envelope(long seconds, String value) {
        return new Envelope(Instant.ofEpochSecond(seconds, 7), "ns", "/tasks/start",
                Any.newBuilder().setTypeUrl("containerd.events.TaskStart").setValue(ByteString.copyFromUtf8(value))
                        .build());
    }

    @Test
    void anEnvelopeEqualInEveryPartIsADuplicateAndOneDifferingInAnyPartIsNot() {
        RecentEnvelopes recent = new RecentEnvelopes(4);
        assertThat(recent.add(envelope(1, "a"))).isTrue();
        assertThat(recent.add(envelope(1, "a"))).isFalse();
        assertThat(recent.add(envelope(1, "b"))).isTrue();
        assertThat(recent.add(envelope(2, "a"))).isTrue();
        Envelope a = envelope(1, "a");
        assertThat(recent.add(new Envelope(a.timestamp(), "other", a.topic(), a.event()))).isTrue();
    }

    @Test
    void anEnvelopeOlderThanTheLastNIsDeliveredAgain() {
        RecentEnvelopes recent = new RecentEnvelopes(2);
        recent.add(envelope(1, "a"));
        recent.add(envelope(2, "a"));
        recent.add(envelope(3, "a"));
        assertThat(recent.add(envelope(1, "a"))).isTrue();
        assertThat(recent.add(envelope(3, "a"))).isFalse();
    }

    @Test
    void aForgottenEnvelopeGoesThroughAgain() {
        RecentEnvelopes recent = new RecentEnvelopes(2);
        recent.add(envelope(1, "a"));
        recent.remove(envelope(1, "a"));
        assertThat(recent.add(envelope(1, "a"))).isTrue();
    }

    @Test
    void aLargePayloadIsNeverRemembered() {
        RecentEnvelopes recent = new RecentEnvelopes(2);
        Envelope large = envelope(1, "x".repeat(RecentEnvelopes.MAX_REMEMBERED_PAYLOAD + 1));
        assertThat(recent.add(large)).isTrue();
        assertThat(recent.add(large)).isTrue();
    }
}
