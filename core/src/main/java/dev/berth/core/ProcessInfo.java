package dev.berth.core;

import java.util.Objects;

/**
 * One process seen inside a task.
 *
 * @param pid the host pid
 * @param execId the exec id when the process is an exec's own process, otherwise empty
 * @param command what the process runs, as far as the backend can tell (may be empty)
 */
public record ProcessInfo(int pid, String execId, String command) {
    public ProcessInfo {
        Objects.requireNonNull(execId, "execId");
        Objects.requireNonNull(command, "command");
    }
}
