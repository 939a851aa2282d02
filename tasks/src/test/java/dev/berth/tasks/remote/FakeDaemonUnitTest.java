package dev.berth.tasks.remote;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Empty;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ExitStatus;
import dev.berth.core.Namespaces;
import dev.berth.core.ProcessSpec;
import dev.berth.core.Task;
import dev.berth.core.TaskSpec;
import dev.berth.core.os.Syscalls;
import dev.berth.core.os.Syscalls.OpenFlags;
import dev.berth.tasks.remote.proto.containers.ContainersGrpc;
import dev.berth.tasks.remote.proto.containers.CreateContainerRequest;
import dev.berth.tasks.remote.proto.containers.CreateContainerResponse;
import dev.berth.tasks.remote.proto.containers.DeleteContainerRequest;
import dev.berth.tasks.remote.proto.tasks.CreateTaskRequest;
import dev.berth.tasks.remote.proto.tasks.CreateTaskResponse;
import dev.berth.tasks.remote.proto.tasks.DeleteResponse;
import dev.berth.tasks.remote.proto.tasks.DeleteTaskRequest;
import dev.berth.tasks.remote.proto.tasks.GetRequest;
import dev.berth.tasks.remote.proto.tasks.GetResponse;
import dev.berth.tasks.remote.proto.tasks.KillRequest;
import dev.berth.tasks.remote.proto.tasks.StartRequest;
import dev.berth.tasks.remote.proto.tasks.StartResponse;
import dev.berth.tasks.remote.proto.tasks.TasksGrpc;
import dev.berth.tasks.remote.proto.tasks.WaitRequest;
import dev.berth.tasks.remote.proto.tasks.WaitResponse;
import dev.berth.tasks.remote.proto.types.Process;
import dev.berth.tasks.remote.proto.types.Status;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The remote service against a fake daemon (a grpc-java server on a domain socket in a temp dir): the namespace
 * header, the order of spec §4.3 and §7.2 (our FIFO readers open before Tasks/Create, Wait before Start), cancel
 * propagation, refusals that send nothing, and the undo of a failed create. No containerd, no root.
 */
@EnabledOnOs(OS.LINUX)
class FakeDaemonUnitTest {
    static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    EventLoopGroup group;
    Server server;
    RemoteTaskService service;
    final FakeTasks fake = new FakeTasks();
    final List<String> calls = new CopyOnWriteArrayList<>();
    final List<String> namespaces = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startFakeDaemon() throws Exception {
        Path socket = dir.resolve("c.sock");
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ServerInterceptor record = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                calls.add(call.getMethodDescriptor().getBareMethodName());
                namespaces.add(String.valueOf(headers.get(Calls.NAMESPACE)));
                return Contexts.interceptCall(io.grpc.Context.current(), call, headers, next);
            }
        };
        server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(group)
                .workerEventLoopGroup(group)
                .addService(ServerInterceptors.intercept(fake, record))
                .addService(ServerInterceptors.intercept(new FakeContainers(), record))
                .build()
                .start();
        service = RemoteTaskService.connect(socket, dir.resolve("fifo"), Duration.ofMillis(200));
    }

    @AfterEach
    void stopFakeDaemon() throws Exception {
        fake.waitAnswer.complete(WaitResponse.newBuilder().setExitStatus(0).build());
        StepVerifier.create(service.close()).expectComplete().verify(WAIT);
        server.shutdownNow();
        assertThat(server.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    TaskSpec spec(String id) {
        return TaskSpec.builder(id, ProcessSpec.of("/bin/true")).rootfs(dir).build();
    }

    @Test
    void createSendsTheContextsNamespaceOpensTheReadersBeforeCreateAndWaitsBeforeStart() throws Exception {
        Task task = service.create(spec("t1")).contextWrite(Namespaces.with("h6-unit")).block(WAIT);
        assertThat(fake.waitArrived.get(10, TimeUnit.SECONDS)).as("Wait sent once Create answered").isTrue();
        assertThat(fake.readersWereOpenAtCreate.getNow(false)).as("stdout and stderr readers open at Create")
                .isTrue();
        assertThat(fake.createRequest.getNow(null).getStdin()).as("no stdin pipe asked for").isEmpty();
        assertThat(calls).containsExactly("Create", "Create", "Wait");
        assertThat(namespaces).containsOnly("h6-unit");
        Mono<ExitStatus> exit = task.exit();
        assertThat(task.start().block(WAIT)).isEqualTo(42);
        fake.waitAnswer.complete(WaitResponse.newBuilder().setExitStatus(3)
                .setExitedAt(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_700_000_000L)).build());
        assertThat(exit.block(WAIT).code()).hasValue(3);
        assertThat(calls.indexOf("Wait")).isLessThan(calls.indexOf("Start"));
    }

    @Test
    void withoutANamespaceInTheContextTheDefaultOneIsSent() {
        service.create(spec("t2")).block(WAIT);
        assertThat(namespaces).isNotEmpty().containsOnly(Namespaces.DEFAULT);
    }

    @Test
    void badInputIsRefusedWithInvalidArgumentAndNothingIsSent() {
        for (TaskSpec bad : List.of(TaskSpec.builder("t3", ProcessSpec.of("/bin/true")).build(),
                TaskSpec.builder("bad id!", ProcessSpec.of("/bin/true")).rootfs(dir).build(),
                TaskSpec.builder("t3", ProcessSpec.of()).rootfs(dir).build())) {
            StepVerifier.create(service.create(bad))
                    .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                    .verify(WAIT);
        }
        StepVerifier.create(service.create(spec("t3")).contextWrite(ctx -> ctx.put(Namespaces.KEY, "bad ns")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(WAIT);
        assertThat(calls).isEmpty();
    }

    @Test
    void aFailedTaskCreateDeletesTheContainerAndLeavesNoFifo() throws Exception {
        fake.failCreate = true;
        StepVerifier.create(service.create(spec("t4")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.NOT_FOUND))
                .verify(WAIT);
        assertThat(calls).containsSubsequence("Create", "Create", "Delete");
        try (Stream<Path> left = Files.list(dir.resolve("fifo"))) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void cancellingACallCancelsItOnTheDaemon() throws Exception {
        io.grpc.ManagedChannel channel = io.grpc.netty.NettyChannelBuilder
                .forAddress(new DomainSocketAddress(dir.resolve("c.sock").toString()))
                .channelType(io.netty.channel.epoll.EpollDomainSocketChannel.class)
                .eventLoopGroup(group).usePlaintext().build();
        Calls direct = new Calls(channel, reactor.core.scheduler.Schedulers.single());
        StepVerifier.create(direct.unary("h6-unit", TasksGrpc.getWaitMethod(),
                        WaitRequest.newBuilder().setContainerId("never").build()))
                .then(() -> fake.waitArrived.join())
                .thenCancel()
                .verify(WAIT);
        assertThat(fake.waitCancelled.get(10, TimeUnit.SECONDS)).isTrue();
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    /** A tasks service that checks the FIFO order at Create and holds Wait until the test answers it. */
    static final class FakeTasks extends TasksGrpc.TasksImplBase {
        final CompletableFuture<Boolean> readersWereOpenAtCreate = new CompletableFuture<>();
        final CompletableFuture<CreateTaskRequest> createRequest = new CompletableFuture<>();
        final CompletableFuture<WaitResponse> waitAnswer = new CompletableFuture<>();
        final CompletableFuture<Boolean> waitArrived = new CompletableFuture<>();
        final CompletableFuture<Boolean> waitCancelled = new CompletableFuture<>();
        volatile boolean failCreate;

        @Override
        public void create(CreateTaskRequest request, StreamObserver<CreateTaskResponse> response) {
            createRequest.complete(request);
            if (failCreate) {
                response.onError(io.grpc.Status.UNKNOWN.withDescription("failed to create shim task: OCI runtime "
                        + "create failed: exec: \"/bin/true\": stat /bin/true: no such file or directory: unknown")
                        .asRuntimeException());
                return;
            }
            // A write-only non-blocking open fails with ENXIO unless a reader has the FIFO open: ours must.
            boolean open = true;
            Syscalls sys = Syscalls.linux();
            for (String fifo : List.of(request.getStdout(), request.getStderr())) {
                try {
                    sys.close(sys.open(fifo, OpenFlags.O_WRONLY | OpenFlags.O_NONBLOCK, 0));
                } catch (RuntimeException e) {
                    open = false;
                }
            }
            readersWereOpenAtCreate.complete(open);
            response.onNext(CreateTaskResponse.newBuilder().setContainerId(request.getContainerId()).setPid(42)
                    .build());
            response.onCompleted();
        }

        @Override
        public void start(StartRequest request, StreamObserver<StartResponse> response) {
            response.onNext(StartResponse.newBuilder().setPid(42).build());
            response.onCompleted();
        }

        @Override
        public void wait(WaitRequest request, StreamObserver<WaitResponse> response) {
            ((ServerCallStreamObserver<WaitResponse>) response).setOnCancelHandler(() -> waitCancelled.complete(true));
            waitArrived.complete(true);
            waitAnswer.thenAccept(r -> {
                response.onNext(r);
                response.onCompleted();
            });
        }

        @Override
        public void get(GetRequest request, StreamObserver<GetResponse> response) {
            response.onNext(GetResponse.newBuilder().setProcess(Process.newBuilder().setId(request.getContainerId())
                    .setStatus(waitAnswer.isDone() ? Status.STOPPED : Status.RUNNING)).build());
            response.onCompleted();
        }

        @Override
        public void kill(KillRequest request, StreamObserver<Empty> response) {
            waitAnswer.complete(WaitResponse.newBuilder().setExitStatus(137).build());
            response.onNext(Empty.getDefaultInstance());
            response.onCompleted();
        }

        @Override
        public void delete(DeleteTaskRequest request, StreamObserver<DeleteResponse> response) {
            response.onNext(DeleteResponse.newBuilder().setPid(42).build());
            response.onCompleted();
        }
    }

    /** A containers service that accepts everything. */
    static final class FakeContainers extends ContainersGrpc.ContainersImplBase {
        @Override
        public void create(CreateContainerRequest request, StreamObserver<CreateContainerResponse> response) {
            response.onNext(CreateContainerResponse.newBuilder().setContainer(request.getContainer()).build());
            response.onCompleted();
        }

        @Override
        public void delete(DeleteContainerRequest request, StreamObserver<Empty> response) {
            response.onNext(Empty.getDefaultInstance());
            response.onCompleted();
        }
    }
}
