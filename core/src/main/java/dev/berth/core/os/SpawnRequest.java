package dev.berth.core.os;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One {@code posix_spawn}: the program, its argv and envp, the working directory, the three descriptors that become
 * its stdin, stdout and stderr, and its process group.
 *
 * @param program absolute path of the executable
 * @param argv the arguments, argv[0] first
 * @param envp the environment as {@code NAME=value} entries
 * @param cwd the working directory, or {@code null} to inherit the JVM's
 * @param stdin the descriptor duplicated onto 0
 * @param stdout the descriptor duplicated onto 1
 * @param stderr the descriptor duplicated onto 2
 * @param processGroup the process group to join, or 0 to lead a new group whose id is the child's pid
 */
public record SpawnRequest(String program, List<String> argv, List<String> envp, @Nullable String cwd,
        int stdin, int stdout, int stderr, int processGroup) {
    public SpawnRequest {
        Objects.requireNonNull(program, "program");
        argv = List.copyOf(argv);
        envp = List.copyOf(envp);
    }
}
