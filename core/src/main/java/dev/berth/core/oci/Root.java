package dev.berth.core.oci;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The container's root filesystem ({@code root} in {@code config.json}).
 *
 * @param path the rootfs directory: absolute, or relative to the bundle directory
 * @param readonly whether the rootfs is mounted read-only; {@code null} leaves the key out (false)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record Root(String path, @Nullable Boolean readonly) {
    public Root {
        Objects.requireNonNull(path, "path");
    }
}
