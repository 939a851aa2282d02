package dev.berth.shims.internal.v2;

import dev.berth.core.Identifiers;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A bundle directory, {@code <state>/<namespace>/<id>}. Its basename is the task id, as the shim's {@code delete}
 * action requires (pitfall 4).
 *
 * @param namespace the task's namespace
 * @param id the task id
 * @param path the absolute bundle directory
 */
record Bundle(String namespace, String id, Path path) {
    Bundle {
        Identifiers.validate("namespace", namespace);
        Identifiers.validate("task id", id);
        Objects.requireNonNull(path, "path");
        if (!path.isAbsolute() || path.getFileName() == null || !path.getFileName().toString().equals(id)) {
            throw new IllegalArgumentException("bundle " + path + " must be absolute and named " + id);
        }
    }

    /** The OCI spec. */
    Path config() {
        return path.resolve("config.json");
    }

    /** The FIFO the shim daemon logs to; someone must hold it open for reading (pitfall 2). */
    Path log() {
        return path.resolve("log");
    }

    /** The checkpoint/restore work directory. */
    Path work() {
        return path.resolve("work");
    }

    /** The address file the shim's {@code start} writes. */
    Path address() {
        return path.resolve("address");
    }

    /** The stdio FIFOs of the process {@code execId} (the task id for the init). */
    StdioFifos fifos(String execId, boolean stdin) {
        Identifiers.validate("exec id", execId);
        return new StdioFifos(stdin ? path.resolve(execId + "-stdin") : null, path.resolve(execId + "-stdout"),
                path.resolve(execId + "-stderr"));
    }
}
