package dev.berth.tasks.remote;

import com.google.protobuf.Any;
import dev.berth.core.Errors;
import dev.berth.core.Identifiers;
import dev.berth.core.oci.OciSpecs;
import dev.berth.core.oci.Spec;
import dev.berth.events.proto.containerd.services.events.v1.PublishRequest;
import dev.berth.tasks.remote.proto.containers.Container;
import dev.berth.tasks.remote.proto.tasks.CreateTaskRequest;
import dev.berth.tasks.remote.proto.tasks.ExecProcessRequest;
import java.nio.charset.StandardCharsets;

/**
 * Checks of requests that would crash or wedge the daemon or a shim (spec §8), made right before sending: each
 * refusal is INVALID_ARGUMENT and nothing is sent. The requests Berth builds pass by construction; these checks
 * keep it so.
 */
final class Validation {
    private static final String GOOGLE_PREFIX = "type.googleapis.com/";

    private Validation() {
    }

    /** Containers/Create: id, runtime name, bare options URL, and a spec that keeps runc's mounts off the host. */
    static Container container(Container c) {
        Identifiers.validate("container id", c.getId());
        if (c.getRuntime().getName().isEmpty()) {
            throw Errors.invalidArgument("container %s: runtime name must be set", c.getId());
        }
        if (c.getRuntime().hasOptions()) {
            bareUrl(c.getRuntime().getOptions(), "container " + c.getId() + " runtime options");
        }
        if (!c.hasSpec() || !TypeUrls.is(c.getSpec(), TypeUrls.SPEC)) {
            throw Errors.invalidArgument("container %s: the spec must be set, as %s", c.getId(), TypeUrls.SPEC);
        }
        Spec spec = OciSpecs.fromJson(c.getSpec().getValue().toString(StandardCharsets.UTF_8));
        boolean mountNs = spec.linux() != null
                && spec.linux().namespaces().stream().anyMatch(n -> n.type().equals("mount") && n.path() == null);
        if (!mountNs) {
            // runc would bind-mount the rootfs in the host's mount namespace and leak the mounts.
            throw Errors.invalidArgument("container %s: the spec must have a new mount namespace", c.getId());
        }
        boolean devTmpfs = spec.mounts().stream()
                .anyMatch(m -> m.destination().equals("/dev") && "tmpfs".equals(m.type()));
        if (!devTmpfs) {
            // runc would create device nodes inside the host's rootfs directory.
            throw Errors.invalidArgument("container %s: the spec must mount a tmpfs on /dev", c.getId());
        }
        if (spec.process() == null || spec.process().args().isEmpty()) {
            throw Errors.invalidArgument("container %s: the spec must have process args", c.getId());
        }
        return c;
    }

    /** Tasks/Create: stdio strings the shim accepts without hanging (spec §4.2). */
    static CreateTaskRequest createTask(CreateTaskRequest r) {
        Identifiers.validate("container id", r.getContainerId());
        stdio(r.getContainerId(), r.getStdin(), r.getStdout(), r.getStderr(), r.getTerminal());
        if (r.hasOptions()) {
            bareUrl(r.getOptions(), "task " + r.getContainerId() + " options");
        }
        return r;
    }

    /** Tasks/Exec: a spec (a missing one crashes the runc shim), an exec id, and valid stdio. */
    static ExecProcessRequest exec(ExecProcessRequest r) {
        Identifiers.validate("container id", r.getContainerId());
        Identifiers.validate("exec id", r.getExecId());
        if (!r.hasSpec() || r.getSpec().getValue().isEmpty()) {
            throw Errors.invalidArgument("exec %s: the process spec must be set", r.getExecId());
        }
        stdio(r.getExecId(), r.getStdin(), r.getStdout(), r.getStderr(), r.getTerminal());
        return r;
    }

    /** Events/Publish: an unset event crashes the 1.6 daemon; a topic must be an absolute path of identifiers. */
    static PublishRequest publish(PublishRequest r) {
        if (!r.hasEvent() || r.getEvent().getTypeUrl().isEmpty()) {
            throw Errors.invalidArgument("publish %s: the event must be set", r.getTopic());
        }
        bareUrl(r.getEvent(), "event of " + r.getTopic());
        String topic = r.getTopic();
        if (!topic.startsWith("/") || topic.length() < 2) {
            throw Errors.invalidArgument("topic \"%s\" must start with / and name something", topic);
        }
        for (String part : topic.substring(1).split("/", -1)) {
            Identifiers.validate("topic part", part);
        }
        return r;
    }

    private static void stdio(String id, String stdin, String stdout, String stderr, boolean terminal) {
        if (terminal) {
            if (stdout.isEmpty() || !stderr.isEmpty()) {
                throw Errors.invalidArgument("%s: a terminal needs stdout and no stderr", id);
            }
            return;
        }
        boolean any = !stdin.isEmpty() || !stdout.isEmpty() || !stderr.isEmpty();
        if (any && (stdout.isEmpty() || stderr.isEmpty())) {
            // stdin alone hangs Tasks/Create and leaves a shim; stdout without stderr fails in the shim.
            throw Errors.invalidArgument("%s: stdout and stderr must both be set when any stdio is", id);
        }
    }

    private static void bareUrl(Any any, String what) {
        if (any.getTypeUrl().startsWith(GOOGLE_PREFIX)) {
            throw Errors.invalidArgument("%s: type URL %s must be bare (no %s)", what, any.getTypeUrl(),
                    GOOGLE_PREFIX);
        }
    }
}
