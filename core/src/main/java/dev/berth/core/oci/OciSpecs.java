package dev.berth.core.oci;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import java.util.Objects;

/**
 * Converts {@link Spec}s to and from {@code config.json} text. Both directions are plain, non-blocking computations
 * on the calling thread.
 */
public final class OciSpecs {
    // Configured once and shared: ObjectReader and ObjectWriter are immutable and thread-safe.
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);
    private static final ObjectReader READER = MAPPER.readerFor(Spec.class);
    private static final ObjectWriter WRITER = MAPPER.writerFor(Spec.class);
    private static final ObjectWriter PROCESS_WRITER = MAPPER.writerFor(OciProcess.class);
    private static final ObjectWriter RESOURCES_WRITER = MAPPER.writerFor(LinuxResources.class);

    private OciSpecs() {
    }

    /**
     * The compact JSON of {@code spec}, as containerd writes {@code config.json}: components that are {@code null}
     * and empty collections are left out, and unmodelled fields kept in {@code extensions} are written back.
     *
     * @throws BerthException INTERNAL if Jackson cannot write the spec (an extension value that is not JSON-shaped)
     */
    public static String toJson(Spec spec) {
        Objects.requireNonNull(spec, "spec");
        try {
            return WRITER.writeValueAsString(spec);
        } catch (JsonProcessingException e) {
            throw Errors.of(ErrorKind.INTERNAL, e, "cannot write OCI spec: %s", e.getOriginalMessage());
        }
    }

    /**
     * The compact JSON of one {@code process} object, as an exec's spec carries it (e.g. the value of the
     * {@code types.containerd.io/opencontainers/runtime-spec/1/Process} Any of a shim's ExecProcessRequest), written
     * as {@link #toJson(Spec)} writes the {@code process} of a whole spec.
     *
     * @throws BerthException INTERNAL if Jackson cannot write the process (an extension value that is not JSON-shaped)
     */
    public static String toJson(OciProcess process) {
        Objects.requireNonNull(process, "process");
        try {
            return PROCESS_WRITER.writeValueAsString(process);
        } catch (JsonProcessingException e) {
            throw Errors.of(ErrorKind.INTERNAL, e, "cannot write OCI process: %s", e.getOriginalMessage());
        }
    }

    /**
     * The compact JSON of one {@code resources} object, as an update carries it (the value of the
     * {@code types.containerd.io/opencontainers/runtime-spec/1/LinuxResources} Any of an UpdateTaskRequest).
     *
     * @throws BerthException INTERNAL if Jackson cannot write it (an extension value that is not JSON-shaped)
     */
    public static String toJson(LinuxResources resources) {
        Objects.requireNonNull(resources, "resources");
        try {
            return RESOURCES_WRITER.writeValueAsString(resources);
        } catch (JsonProcessingException e) {
            throw Errors.of(ErrorKind.INTERNAL, e, "cannot write OCI resources: %s", e.getOriginalMessage());
        }
    }

    /**
     * Parses a {@code config.json}. Fields the model does not name are kept in the {@code extensions} of
     * {@link Spec}, {@link OciProcess}, {@link Linux} and {@link LinuxResources}, and dropped elsewhere.
     *
     * @throws BerthException INVALID_ARGUMENT if {@code json} is not a JSON object of the spec's shape: malformed,
     *     empty, {@code null}, a field of the wrong type, or a required field ({@code root.path},
     *     {@code mounts[].destination}, {@code rlimits[].type}, ...) missing
     */
    public static Spec fromJson(String json) {
        Objects.requireNonNull(json, "json");
        Spec spec;
        try {
            spec = READER.readValue(json);
        } catch (JsonProcessingException e) {
            throw Errors.of(ErrorKind.INVALID_ARGUMENT, e, "invalid OCI spec: %s", e.getOriginalMessage());
        }
        if (spec == null) {
            throw Errors.invalidArgument("invalid OCI spec: null");
        }
        return spec;
    }
}
