package dev.berth.core.oci;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One entry of {@code mounts}. Fields the model does not name are dropped when parsing.
 *
 * @param destination the absolute path inside the container
 * @param type the filesystem type ({@code proc}, {@code tmpfs}, {@code bind}, ...), or {@code null}
 * @param source the device, directory or pseudo-filesystem name, or {@code null}
 * @param options the mount options, e.g. {@code nosuid}, {@code mode=755}; omitted from JSON when empty
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record Mount(String destination, @Nullable String type, @Nullable String source,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> options) {
    public Mount {
        Objects.requireNonNull(destination, "destination");
        options = Values.list(options);
    }
}
