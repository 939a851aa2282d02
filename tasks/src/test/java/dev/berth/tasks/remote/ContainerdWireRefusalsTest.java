package dev.berth.tasks.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.events.proto.containerd.services.events.v1.PublishRequest;
import dev.berth.tasks.remote.proto.containers.Container;
import dev.berth.tasks.remote.proto.events.EventsGrpc;
import dev.berth.tasks.remote.proto.tasks.CreateTaskRequest;
import dev.berth.tasks.remote.proto.tasks.ExecProcessRequest;
import dev.berth.tasks.remote.proto.tasks.TasksGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Spec §8 at the wire: the requests the public API cannot express (an unset {@code Events/Publish} event, an exec
 * without a process spec, {@code Any.pack}ed runtime options, a spec without a mount namespace or a {@code /dev}
 * tmpfs, stdin-only or stdout-only stdio) are refused with INVALID_ARGUMENT by the checks the remote service runs
 * right before sending ({@code Validation}), and the daemon stays up.
 *
 * <p>Two canaries send the worst of them unchecked, on a raw channel, to prove on this host's containerd that they
 * really are dangerous (and that the liveness checks here would notice): a Publish without an event kills the
 * daemon, an Exec without a spec kills the task's shim. The daemon is restarted after the first.
 */
@Tag("integration")
@EnabledOnOs(OS.LINUX)
class ContainerdWireRefusalsTest {
    static final String NS = "h7-wire";
    static final Duration WAIT = Duration.ofSeconds(20);
    static final String SPEC_URL = "types.containerd.io/opencontainers/runtime-spec/1/Spec";
    static final String PROCESS_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process";

    @RegisterExtension
    static final PrivateContainerd containerd = new PrivateContainerd(NS);
    EventLoopGroup group;
    ManagedChannel channel;
    long daemonPid;

    @BeforeEach
    void open() throws Exception {
        if (!containerd.isRunning()) {
            containerd.restart();
        }
        containerd.removeAll(NS);
        daemonPid = containerd.pid();
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(containerd.socket().toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(group)
                .usePlaintext()
                .overrideAuthority("localhost")
                .build();
    }

    @AfterEach
    void close() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
    }

    private Metadata namespace() {
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER), NS);
        return md;
    }

    private void assertDaemonUp(String after) {
        assertThat(containerd.isRunning()).as("daemon alive after %s", after).isTrue();
        assertThat(containerd.pid()).as("same daemon after %s", after).isEqualTo(daemonPid);
        assertThat(containerd.answers()).as("daemon answers after %s", after).isTrue();
    }

    private static void refused(String what, Supplier<?> check) {
        assertThatThrownBy(check::get).as(what).matches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT), "INVALID_ARGUMENT");
    }

    private static Any any(String url, String json) {
        return Any.newBuilder().setTypeUrl(url).setValue(ByteString.copyFrom(json, StandardCharsets.UTF_8)).build();
    }

    /** The smallest spec that runs (spec §3.3), with {@code linux} and {@code mounts} replaceable. */
    private static String spec(String rootfs, String mounts, String namespaces) {
        return "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"args\":[\"/bin/true\"],\"cwd\":\"/\"},"
                + "\"root\":{\"path\":\"" + rootfs + "\"},\"mounts\":[" + mounts + "],"
                + "\"linux\":{\"namespaces\":[" + namespaces + "]}}";
    }

    @Test
    void everyWireInputOfSpec8IsRefusedWithInvalidArgument() throws Exception {
        String rootfs = containerd.rootfs().toString();
        String proc = "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}";
        String dev = "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}";
        String pidAndMount = "{\"type\":\"pid\"},{\"type\":\"mount\"}";
        Container.Runtime runc = Container.Runtime.newBuilder().setName("io.containerd.runc.v2").build();
        Container good = Container.newBuilder().setId("c1").setRuntime(runc)
                .setSpec(any(SPEC_URL, spec(rootfs, proc + "," + dev, pidAndMount))).build();
        assertThat(Validation.container(good)).as("the control passes").isEqualTo(good);

        refused("an unset Publish event", () -> Validation.publish(
                PublishRequest.newBuilder().setTopic("/h7/x").build()));
        refused("a Google-style event URL", () -> Validation.publish(PublishRequest.newBuilder().setTopic("/h7/x")
                .setEvent(Any.pack(Empty.getDefaultInstance())).build()));
        refused("an exec without a spec", () -> Validation.exec(ExecProcessRequest.newBuilder()
                .setContainerId("c1").setExecId("e1").setStdout("/x/o").setStderr("/x/e").build()));
        refused("an exec with an empty spec", () -> Validation.exec(ExecProcessRequest.newBuilder()
                .setContainerId("c1").setExecId("e1").setSpec(any(PROCESS_URL, "")).build()));
        refused("an exec without an id", () -> Validation.exec(ExecProcessRequest.newBuilder()
                .setContainerId("c1").setSpec(any(PROCESS_URL, "{\"args\":[\"/bin/true\"],\"cwd\":\"/\"}")).build()));
        refused("Any.pack()ed runtime options", () -> Validation.container(good.toBuilder()
                .setRuntime(runc.toBuilder().setOptions(Any.pack(Empty.getDefaultInstance()))).build()));
        refused("a spec without a mount namespace", () -> Validation.container(good.toBuilder()
                .setSpec(any(SPEC_URL, spec(rootfs, proc + "," + dev, "{\"type\":\"pid\"}"))).build()));
        refused("a spec without linux", () -> Validation.container(good.toBuilder()
                .setSpec(any(SPEC_URL, "{\"process\":{\"args\":[\"/bin/true\"],\"cwd\":\"/\"},\"root\":{\"path\":\""
                        + rootfs + "\"},\"mounts\":[" + proc + "," + dev + "]}")).build()));
        refused("a spec without a /dev tmpfs", () -> Validation.container(good.toBuilder()
                .setSpec(any(SPEC_URL, spec(rootfs, proc, pidAndMount))).build()));
        refused("a container without a spec", () -> Validation.container(good.toBuilder().clearSpec().build()));
        refused("stdin alone", () -> Validation.createTask(CreateTaskRequest.newBuilder().setContainerId("c1")
                .setStdin("/x/i").build()));
        refused("stdout without stderr", () -> Validation.createTask(CreateTaskRequest.newBuilder()
                .setContainerId("c1").setStdout("/x/o").build()));
        refused("Any.pack()ed task options", () -> Validation.createTask(CreateTaskRequest.newBuilder()
                .setContainerId("c1").setOptions(Any.pack(Empty.getDefaultInstance())).build()));
        assertDaemonUp("the refusals");
        assertThat(containerd.ctr("containers", "ls", "-q").output()).isBlank();
    }

    /** The canary of the first row of §8: an unset event really kills this containerd. */
    @Test
    void aPublishWithoutAnEventSentUncheckedKillsTheDaemon() throws Exception {
        ProcessHandle daemon = ProcessHandle.of(daemonPid).orElseThrow();
        EventsGrpc.EventsBlockingStub events = EventsGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(namespace()))
                .withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThatThrownBy(() -> events.publish(PublishRequest.newBuilder().setTopic("/h7/canary").build()))
                .isInstanceOf(StatusRuntimeException.class);
        daemon.onExit().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(containerd.isRunning()).as("the daemon died of it").isFalse();
        containerd.restart();
        assertThat(containerd.answers()).isTrue();
    }

    /** The canary of the second row: an Exec without a spec kills the shim, and the task with it. */
    @Test
    void anExecWithoutASpecSentUncheckedKillsTheShimButNotTheDaemon() throws Exception {
        containerd.runDetached("victim", "/bin/sleep", "300").orFail("run -d");
        TasksGrpc.TasksBlockingStub tasks = TasksGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(namespace()))
                .withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThatThrownBy(() -> tasks.exec(ExecProcessRequest.newBuilder().setContainerId("victim").setExecId("e1")
                .build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNKNOWN));
        assertDaemonUp("an unchecked exec");
        List<String> running = containerd.ctr("tasks", "ls").output().lines()
                .filter(l -> l.startsWith("victim ") && l.contains("RUNNING")).toList();
        assertThat(running).as("the shim's crash took the task").isEmpty();
    }
}
