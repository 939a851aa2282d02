package dev.berth.core.oci;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.berth.core.BerthException;
import dev.berth.core.Errors;
import dev.berth.core.Identifiers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * An OCI runtime spec, the {@code config.json} of a bundle and the {@code spec} containerd stores for a container.
 * Convert it with {@link OciSpecs#toJson(Spec)} and {@link OciSpecs#fromJson(String)}. {@code null} components and
 * empty collections are left out of the JSON.
 *
 * @param ociVersion the spec version, {@code 1.0.2-dev} for what {@code ctr} generates; runc accepts none
 * @param process the container process, or {@code null}
 * @param root the root filesystem, or {@code null}
 * @param hostname the container's hostname (needs a {@code uts} namespace), or {@code null}
 * @param mounts the mounts, in order
 * @param annotations arbitrary metadata
 * @param linux the Linux-specific configuration, or {@code null}
 * @param extensions top-level fields this model does not name (such as {@code hooks} or {@code domainname}), kept
 *     so that a parsed spec is written back unchanged; values are JSON-shaped ({@code Map}, {@code List},
 *     {@code String}, {@code Number}, {@code Boolean} or {@code null})
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Spec(
        @Nullable String ociVersion,
        @Nullable OciProcess process,
        @Nullable Root root,
        @Nullable String hostname,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Mount> mounts,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> annotations,
        @Nullable Linux linux,
        @JsonAnySetter @JsonAnyGetter Map<String, @Nullable Object> extensions) {
    /** The version {@code ctr} writes. */
    public static final String OCI_VERSION = "1.0.2-dev";
    /**
     * The {@code PATH} {@link #defaults} adds when the environment has none: the usual Linux default, as Docker and
     * containerd's image path set it.
     */
    public static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private static final List<String> CAPABILITIES = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID",
            "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");
    private static final List<Mount> MOUNTS = List.of(
            new Mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")),
            new Mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")),
            new Mount("/dev/pts", "devpts", "devpts",
                    List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
            new Mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
            new Mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")),
            new Mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")),
            new Mount("/run", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")));
    private static final List<LinuxResources.DeviceRule> DEVICE_RULES = List.of(
            new LinuxResources.DeviceRule(false, null, null, null, "rwm"),
            allowChar(1, 3L), // null
            allowChar(1, 8L), // random
            allowChar(1, 7L), // full
            allowChar(5, 0L), // tty
            allowChar(1, 5L), // zero
            allowChar(1, 9L), // urandom
            allowChar(5, 1L), // console
            allowChar(136, null), // pts/*
            allowChar(5, 2L)); // ptmx
    private static final List<Linux.Namespace> NAMESPACES = List.of(Linux.Namespace.of("pid"),
            Linux.Namespace.of("ipc"), Linux.Namespace.of("uts"), Linux.Namespace.of("mount"),
            Linux.Namespace.of("network"));
    private static final List<String> MASKED_PATHS = List.of("/proc/acpi", "/proc/asound", "/proc/kcore",
            "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
            "/sys/firmware", "/proc/scsi");
    private static final List<String> READONLY_PATHS = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
            "/proc/sysrq-trigger");

    public Spec {
        mounts = Values.list(mounts);
        annotations = Values.map(annotations);
        extensions = Values.extensions(extensions);
    }

    /**
     * The spec {@code ctr run --rootfs <rootfs> <id> <args...>} generates in {@code namespace}: uid 0, the 14
     * default capabilities in the bounding, effective and permitted sets, {@code RLIMIT_NOFILE} 1024,
     * {@code noNewPrivileges}, the seven default mounts, the device allow-list, CPU shares 1024, the cgroup
     * {@code /<namespace>/<id>}, new pid, ipc, uts, mount and network namespaces, and the masked and read-only
     * {@code /proc} and {@code /sys} paths.
     *
     * <p>One deliberate difference: when {@code env} has no {@code PATH}, {@link #DEFAULT_PATH} is added, so that a
     * relative program name resolves as it would from an image. {@code ctr} adds no environment at all for
     * {@code --rootfs}, and runc then fails to find a program given without a slash.
     *
     * @param namespace the namespace, used in {@code cgroupsPath}
     * @param id the container id, used in {@code cgroupsPath}
     * @param rootfs the rootfs directory, written as given: a relative path is resolved by the runtime against
     *     the bundle directory
     * @param args the program and its arguments
     * @param env environment entries, written as {@code NAME=value} sorted by name ({@code PATH} first when
     *     added)
     * @param cwd the absolute working directory inside the container
     * @throws BerthException INVALID_ARGUMENT for an invalid namespace or id, empty args, an environment name that
     *     is empty or holds {@code =}, or a relative cwd
     */
    public static Spec defaults(String namespace, String id, Path rootfs, List<String> args,
            Map<String, String> env, String cwd) {
        Identifiers.validate("namespace", namespace);
        Identifiers.validate("container id", id);
        Objects.requireNonNull(rootfs, "rootfs");
        if (Objects.requireNonNull(args, "args").isEmpty()) {
            throw Errors.invalidArgument("args must not be empty");
        }
        if (!Objects.requireNonNull(cwd, "cwd").startsWith("/")) {
            throw Errors.invalidArgument("cwd \"%s\" must be an absolute path", cwd);
        }
        OciProcess process = new OciProcess(null, null, OciProcess.User.of(0, 0), args, envEntries(env), cwd,
                new OciProcess.Capabilities(CAPABILITIES, CAPABILITIES, List.of(), CAPABILITIES, List.of()),
                List.of(new OciProcess.Rlimit("RLIMIT_NOFILE", 1024, 1024)), true, null, null, null, Map.of());
        Linux linux = new Linux(List.of(), List.of(), Map.of(),
                new LinuxResources(DEVICE_RULES, null, LinuxResources.Cpu.ofShares(1024), null, Map.of()),
                "/" + namespace + "/" + id, NAMESPACES, List.of(), null, MASKED_PATHS, READONLY_PATHS, null,
                Map.of());
        return new Spec(OCI_VERSION, process, new Root(rootfs.toString(), null), null, MOUNTS, Map.of(), linux,
                Map.of());
    }

    /** This spec with another process, e.g. the container's process with an exec's args. */
    public Spec withProcess(OciProcess process) {
        return new Spec(ociVersion, Objects.requireNonNull(process, "process"), root, hostname, mounts, annotations,
                linux, extensions);
    }

    private static List<String> envEntries(Map<String, String> env) {
        List<String> entries = new ArrayList<>();
        if (!Objects.requireNonNull(env, "env").containsKey("PATH")) {
            entries.add("PATH=" + DEFAULT_PATH);
        }
        new TreeMap<>(env).forEach((name, value) -> {
            if (name.isEmpty() || name.indexOf('=') >= 0) {
                throw Errors.invalidArgument("invalid environment name \"%s\"", name);
            }
            entries.add(name + "=" + value);
        });
        return entries;
    }

    private static LinuxResources.DeviceRule allowChar(long major, @Nullable Long minor) {
        return new LinuxResources.DeviceRule(true, "c", major, minor, "rwm");
    }
}
