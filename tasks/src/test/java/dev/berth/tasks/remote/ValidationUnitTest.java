package dev.berth.tasks.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.oci.Linux;
import dev.berth.core.oci.OciSpecs;
import dev.berth.core.oci.Spec;
import dev.berth.events.proto.containerd.services.events.v1.PublishRequest;
import dev.berth.tasks.remote.proto.containers.Container;
import dev.berth.shims.internal.v2.proto.runc.Options;
import dev.berth.tasks.remote.proto.tasks.CreateTaskRequest;
import dev.berth.tasks.remote.proto.tasks.ExecProcessRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every request of spec §8 that would crash or wedge the daemon or a shim is refused with INVALID_ARGUMENT. */
class ValidationUnitTest {
    static final Spec SPEC = Spec.defaults("h6-unit", "c1", Path.of("/tmp/rootfs"), List.of("/bin/true"), Map.of(),
            "/");

    static Container container(Spec spec, Any options) {
        return Container.newBuilder()
                .setId("c1")
                .setRuntime(Container.Runtime.newBuilder().setName("io.containerd.runc.v2").setOptions(options))
                .setSpec(TypeUrls.json(TypeUrls.SPEC, OciSpecs.toJson(spec)))
                .build();
    }

    static void refused(Executable call) {
        assertThatThrownBy(call::execute)
                .isInstanceOf(BerthException.class)
                .matches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT), "INVALID_ARGUMENT");
    }

    @Test
    void theDefaultSpecWithBareOptionsPasses() {
        Container ok = container(SPEC, TypeUrls.message(Options.getDefaultInstance()));
        assertThat(Validation.container(ok)).isSameAs(ok);
    }

    @Test
    void googleStyleOptionsAreRefused() {
        refused(() -> Validation.container(container(SPEC, Any.pack(Options.getDefaultInstance()))));
        refused(() -> Validation.createTask(CreateTaskRequest.newBuilder().setContainerId("c1")
                .setOptions(Any.pack(Options.getDefaultInstance())).build()));
    }

    @Test
    void aSpecWithoutAMountNamespaceOrDevTmpfsIsRefused() {
        Linux noMountNs = new Linux(List.of(), List.of(), Map.of(), null, null,
                List.of(Linux.Namespace.of("pid")), List.of(), null, List.of(), List.of(), null, Map.of());
        Spec withoutMountNs = new Spec(SPEC.ociVersion(), SPEC.process(), SPEC.root(), null, SPEC.mounts(),
                Map.of(), noMountNs, Map.of());
        refused(() -> Validation.container(container(withoutMountNs, TypeUrls.message(Options.getDefaultInstance()))));
        Spec withoutDev = new Spec(SPEC.ociVersion(), SPEC.process(), SPEC.root(), null,
                SPEC.mounts().stream().filter(m -> !m.destination().equals("/dev")).toList(), Map.of(), SPEC.linux(),
                Map.of());
        refused(() -> Validation.container(container(withoutDev, TypeUrls.message(Options.getDefaultInstance()))));
    }

    @Test
    void aContainerWithoutSpecOrRuntimeIsRefused() {
        refused(() -> Validation.container(container(SPEC, TypeUrls.message(Options.getDefaultInstance())).toBuilder()
                .clearSpec().build()));
        refused(() -> Validation.container(container(SPEC, TypeUrls.message(Options.getDefaultInstance())).toBuilder()
                .setRuntime(Container.Runtime.newBuilder()).build()));
        refused(() -> Validation.container(container(SPEC, TypeUrls.message(Options.getDefaultInstance())).toBuilder()
                .setId("bad id!").build()));
    }

    @Test
    void stdioTheShimCannotServeIsRefused() {
        CreateTaskRequest base = CreateTaskRequest.newBuilder().setContainerId("c1").build();
        assertThat(Validation.createTask(base)).as("null IO").isSameAs(base);
        CreateTaskRequest all = base.toBuilder().setStdin("/f/in").setStdout("/f/out").setStderr("/f/err").build();
        assertThat(Validation.createTask(all)).isSameAs(all);
        // stdin alone hangs Tasks/Create and leaves an orphan shim; stdout without stderr fails in the shim.
        refused(() -> Validation.createTask(base.toBuilder().setStdin("/f/in").build()));
        refused(() -> Validation.createTask(base.toBuilder().setStdout("/f/out").build()));
        refused(() -> Validation.createTask(base.toBuilder().setStdout("/f/out").setStderr("/f/err").setTerminal(true)
                .build()));
    }

    @Test
    void anExecWithoutSpecOrIdIsRefused() {
        ExecProcessRequest ok = ExecProcessRequest.newBuilder().setContainerId("c1").setExecId("e1")
                .setSpec(TypeUrls.json(TypeUrls.PROCESS, OciSpecs.toJson(SPEC.process()))).build();
        assertThat(Validation.exec(ok)).isSameAs(ok);
        refused(() -> Validation.exec(ok.toBuilder().clearSpec().build()));
        refused(() -> Validation.exec(ok.toBuilder().setExecId("").build()));
        refused(() -> Validation.exec(ok.toBuilder().setStdin("/f/in").build()));
    }

    @Test
    void aPublishWithoutEventOrWithABadTopicIsRefused() {
        PublishRequest ok = PublishRequest.newBuilder().setTopic("/berth/sentinel/x1")
                .setEvent(Any.newBuilder().setTypeUrl("dev.berth.events.Sentinel")).build();
        assertThat(Validation.publish(ok)).isSameAs(ok);
        refused(() -> Validation.publish(ok.toBuilder().clearEvent().build()));
        for (String topic : List.of("", "tasks", "/", "/a b", "/a//b")) {
            refused(() -> Validation.publish(ok.toBuilder().setTopic(topic).build()));
        }
    }
}
