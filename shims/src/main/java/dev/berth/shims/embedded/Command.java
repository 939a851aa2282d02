package dev.berth.shims.embedded;

import dev.berth.core.Errors;
import dev.berth.core.ErrorKind;
import dev.berth.core.ProcessSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A process spec resolved against the host: the program's absolute path, the merged environment and the checked
 * working directory. Resolving up front makes a missing program fail {@code create} with NOT_FOUND rather than
 * leave a task that can never start.
 */
record Command(String program, List<String> argv, List<String> envp, @Nullable String cwd) {
    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** Resolves {@code spec}; blocks on file-system checks. */
    static Command resolve(ProcessSpec spec, Map<String, String> hostEnvironment) {
        Map<String, String> env = new LinkedHashMap<>(hostEnvironment);
        env.putAll(spec.env());
        String cwd = spec.cwd();
        if (cwd != null && !Files.isDirectory(Path.of(cwd))) {
            throw Errors.invalidArgument("working directory %s is not a directory", cwd);
        }
        String name = spec.args().get(0);
        String program = name.indexOf('/') >= 0
                ? checkExecutable(base(cwd).resolve(name), name)
                : search(name, env.getOrDefault("PATH", DEFAULT_PATH), cwd);
        List<String> envp = new ArrayList<>(env.size());
        env.forEach((k, v) -> envp.add(k + "=" + v));
        return new Command(program, spec.args(), envp, cwd);
    }

    private static Path base(@Nullable String cwd) {
        return cwd != null ? Path.of(cwd) : Path.of("").toAbsolutePath();
    }

    private static String checkExecutable(Path path, String name) {
        if (!Files.exists(path)) {
            throw Errors.notFound("%s: no such file", name);
        }
        if (Files.isDirectory(path) || !Files.isExecutable(path)) {
            throw Errors.of(ErrorKind.PERMISSION_DENIED, "%s: permission denied (not an executable file)", name);
        }
        return path.toAbsolutePath().normalize().toString();
    }

    private static String search(String name, String path, @Nullable String cwd) {
        boolean sawNonExecutable = false;
        for (String dir : path.split(":", -1)) {
            // An empty PATH entry means the working directory, as execvp does.
            Path candidate = (dir.isEmpty() ? base(cwd) : base(cwd).resolve(dir)).resolve(name);
            if (Files.isRegularFile(candidate)) {
                if (Files.isExecutable(candidate)) {
                    return candidate.toAbsolutePath().normalize().toString();
                }
                sawNonExecutable = true;
            }
        }
        if (sawNonExecutable) {
            throw Errors.of(ErrorKind.PERMISSION_DENIED, "%s: permission denied", name);
        }
        throw Errors.notFound("%s: executable file not found in $PATH", name);
    }
}
