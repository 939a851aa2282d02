package dev.berth.tasks.remote;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import dev.berth.core.Envelope;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.events.proto.containerd.events.TaskExit;
import dev.berth.events.proto.containerd.events.TaskStart;
import dev.berth.events.proto.containerd.services.events.v1.PublishRequest;
import dev.berth.events.proto.containerd.services.events.v1.SubscribeRequest;
import dev.berth.tasks.remote.proto.events.EventsGrpc;
import dev.berth.tasks.remote.proto.health.HealthCheckRequest;
import dev.berth.tasks.remote.proto.health.HealthCheckResponse;
import dev.berth.tasks.remote.proto.health.HealthGrpc;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/**
 * The remote event stream against a fake daemon that goes away and comes back on the same socket: the subscriber
 * is told about the gap, the stream is resubscribed (and confirmed with a sentinel the subscriber never sees), and
 * an exit the new daemon sends again is not delivered twice. Bad filters fail with INVALID_ARGUMENT, unsent.
 */
@EnabledOnOs(OS.LINUX)
class EventStreamUnitTest {
    static final Duration WAIT = Duration.ofSeconds(10);
    static final Timestamp AT = Timestamp.newBuilder().setSeconds(1_700_000_000L).build();

    @TempDir
    Path dir;
    EventLoopGroup group;
    Server server;
    FakeEvents events;
    RemoteTaskService service;

    @BeforeEach
    void start() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        serve();
        service = RemoteTaskService.connect(dir.resolve("c.sock"), dir.resolve("fifo"), Duration.ofMillis(200));
    }

    @AfterEach
    void stop() throws Exception {
        StepVerifier.create(service.close()).expectComplete().verify(WAIT);
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** A fresh fake daemon on the socket, as a restarted containerd. */
    void serve() throws Exception {
        Files.deleteIfExists(dir.resolve("c.sock"));
        events = new FakeEvents();
        server = NettyServerBuilder.forAddress(new DomainSocketAddress(dir.resolve("c.sock").toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(group)
                .workerEventLoopGroup(group)
                .addService(events)
                .addService(new HealthGrpc.HealthImplBase() {
                    @Override
                    public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> response) {
                        response.onNext(HealthCheckResponse.newBuilder()
                                .setStatus(HealthCheckResponse.ServingStatus.SERVING).build());
                        response.onCompleted();
                    }
                })
                .build()
                .start();
    }

    static Envelope exit(String id) {
        return RemoteEvents.exitEnvelope("h6-unit", id, id, 7, 3, AT);
    }

    static dev.berth.events.proto.containerd.services.events.v1.Envelope wire(Envelope e) {
        return dev.berth.events.proto.containerd.services.events.v1.Envelope.newBuilder()
                .setTimestamp(Timestamps.timestamp(e.timestamp())).setNamespace(e.namespace()).setTopic(e.topic())
                .setEvent(e.event()).build();
    }

    @Test
    void aLostStreamIsMarkedResubscribedAndAnExitSentAgainIsDeliveredOnce() throws Exception {
        String filter = "namespace==h6-unit,topic~=\"^/tasks/\"";
        StepVerifier.create(service.events().subscribe(filter))
                .then(() -> {
                    // The fake is subscribed once it has the filters (containerd does not acknowledge either).
                    assertThat(events.filters.join()).containsExactly(filter);
                    events.send(wire(exit("c1")));
                })
                .assertNext(e -> assertThat(e.topic()).isEqualTo("/tasks/exit"))
                .then(() -> {
                    server.shutdownNow(); // the daemon goes away: the stream fails UNAVAILABLE
                })
                .assertNext(e -> assertThat(e.topic()).isEqualTo(RemoteEvents.GAP_TOPIC))
                .then(() -> {
                    try {
                        server.awaitTermination(10, TimeUnit.SECONDS);
                        serve();
                    } catch (Exception x) {
                        throw new AssertionError(x);
                    }
                })
                // The new daemon replays nothing by itself; here it sends the old exit again, then a new event.
                .then(() -> {
                    events.confirmed.join();
                    events.send(wire(exit("c1")));
                    events.send(wire(new Envelope(java.time.Instant.ofEpochSecond(1_700_000_001L), "h6-unit",
                            "/tasks/start", TypeUrls.message(TaskStart.newBuilder().setContainerId("c2").build()))));
                })
                .assertNext(e -> {
                    assertThat(e.topic()).as("the duplicate exit and the sentinel are not delivered")
                            .isEqualTo("/tasks/start");
                })
                .thenCancel()
                .verify(WAIT);
        List<String> resubscribed = events.filters.join();
        assertThat(resubscribed).as("the resubscription adds only the sentinel's entry").hasSize(2)
                .contains(filter);
        assertThat(resubscribed.get(1)).startsWith("topic==\"" + RemoteEvents.SENTINEL_PREFIX);
    }

    @Test
    void aFilterThatDoesNotParseFailsWithInvalidArgumentAndIsNotSent() {
        StepVerifier.create(service.events().subscribe("id=="))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(WAIT);
        assertThat(events.filters).isNotDone();
    }

    @Test
    void theGapMarkerSaysWhatHappened() throws Exception {
        Envelope gap = RemoteEvents.gap(java.time.Instant.EPOCH, Errors.unavailable("gone"));
        assertThat(gap.topic()).isEqualTo(RemoteEvents.GAP_TOPIC);
        assertThat(gap.event().getTypeUrl()).isEqualTo(RemoteEvents.GAP_TYPE_URL);
        assertThat(gap.event().getValue().toStringUtf8()).contains("gone");
        assertThat(TaskExit.parseFrom(exit("c9").event().getValue()).getExitedAt()).isEqualTo(AT);
    }

    /** One subscriber at a time; Publish echoes the sentinel to it. */
    static final class FakeEvents extends EventsGrpc.EventsImplBase {
        final CompletableFuture<List<String>> filters = new CompletableFuture<>();
        final CompletableFuture<Boolean> confirmed = new CompletableFuture<>();
        final List<StreamObserver<dev.berth.events.proto.containerd.services.events.v1.Envelope>> subscribers =
                new CopyOnWriteArrayList<>();

        @Override
        public void subscribe(SubscribeRequest request,
                StreamObserver<dev.berth.events.proto.containerd.services.events.v1.Envelope> response) {
            subscribers.add(response);
            filters.complete(request.getFiltersList());
        }

        @Override
        public void publish(PublishRequest request, StreamObserver<Empty> response) {
            send(dev.berth.events.proto.containerd.services.events.v1.Envelope.newBuilder()
                    .setTimestamp(AT).setNamespace("berth").setTopic(request.getTopic())
                    .setEvent(request.getEvent()).build());
            if (!subscribers.isEmpty()) {
                confirmed.complete(true); // a Publish before the Subscribe reaches nobody, as in containerd
            }
            response.onNext(Empty.getDefaultInstance());
            response.onCompleted();
        }

        synchronized void send(dev.berth.events.proto.containerd.services.events.v1.Envelope e) {
            for (var s : subscribers) {
                s.onNext(e);
            }
        }
    }
}
