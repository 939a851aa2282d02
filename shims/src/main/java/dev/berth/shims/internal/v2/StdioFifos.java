package dev.berth.shims.internal.v2;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The stdio FIFOs of one process in a bundle, {@code <bundle>/<execId>-stdout} and so on. Both stdout and stderr
 * are always given (pitfall 15); stdin only when the process reads it.
 */
record StdioFifos(@Nullable Path stdin, Path stdout, Path stderr) {
    StdioFifos {
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
    }

    /** The FIFOs that exist for this process, stdin first when present. */
    List<Path> all() {
        List<Path> all = new ArrayList<>(3);
        if (stdin != null) {
            all.add(stdin);
        }
        all.add(stdout);
        all.add(stderr);
        return all;
    }
}
