package dev.berth.core.oci;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The Linux-specific part of the spec ({@code linux} in {@code config.json}). {@code null} components and empty
 * collections are left out of the JSON.
 *
 * @param uidMappings user namespace uid mappings
 * @param gidMappings user namespace gid mappings
 * @param sysctl kernel parameters set in the container
 * @param resources cgroup limits, or {@code null}
 * @param cgroupsPath the cgroup path; {@code ctr} uses {@code /<namespace>/<id>}
 * @param namespaces the namespaces to create or join; without a {@code mount} namespace runc mounts on the host
 * @param devices device nodes to create in the container
 * @param rootfsPropagation the rootfs mount propagation, or {@code null}
 * @param maskedPaths paths made unreadable in the container
 * @param readonlyPaths paths made read-only in the container
 * @param mountLabel the SELinux context for mounts, or {@code null}
 * @param extensions fields this model does not name (such as {@code seccomp}, {@code intelRdt} or
 *     {@code personality}), kept so that a parsed spec is written back unchanged; values are JSON-shaped
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Linux(
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<IdMapping> uidMappings,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<IdMapping> gidMappings,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> sysctl,
        @Nullable LinuxResources resources,
        @Nullable String cgroupsPath,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Namespace> namespaces,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Device> devices,
        @Nullable String rootfsPropagation,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> maskedPaths,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> readonlyPaths,
        @Nullable String mountLabel,
        @JsonAnySetter @JsonAnyGetter Map<String, @Nullable Object> extensions) {
    public Linux {
        uidMappings = Values.list(uidMappings);
        gidMappings = Values.list(gidMappings);
        sysctl = Values.map(sysctl);
        namespaces = Values.list(namespaces);
        devices = Values.list(devices);
        maskedPaths = Values.list(maskedPaths);
        readonlyPaths = Values.list(readonlyPaths);
        extensions = Values.extensions(extensions);
    }

    /**
     * One user namespace id mapping; the values are unsigned 32-bit ids.
     *
     * @param containerID the first id inside the container
     * @param hostID the first id on the host
     * @param size how many ids are mapped
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record IdMapping(long containerID, long hostID, long size) {
    }

    /**
     * A namespace to create, or to join when {@code path} is set.
     *
     * @param type {@code pid}, {@code network}, {@code mount}, {@code ipc}, {@code uts}, {@code user},
     *     {@code cgroup} or {@code time}
     * @param path a namespace file to join, e.g. {@code /proc/1234/ns/net}; {@code null} creates a new one
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Namespace(String type, @Nullable String path) {
        public Namespace {
            Objects.requireNonNull(type, "type");
        }

        /** A new namespace of {@code type}. */
        public static Namespace of(String type) {
            return new Namespace(type, null);
        }
    }

    /**
     * A device node created in the container ({@code linux.devices}).
     *
     * @param type {@code c}, {@code b}, {@code u} or {@code p}
     * @param path the path inside the container
     * @param major the major number
     * @param minor the minor number
     * @param fileMode the permission bits, or {@code null}
     * @param uid the owner, or {@code null}
     * @param gid the group, or {@code null}
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Device(String type, String path, long major, long minor, @Nullable Integer fileMode,
            @Nullable Long uid, @Nullable Long gid) {
        public Device {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(path, "path");
        }
    }
}
