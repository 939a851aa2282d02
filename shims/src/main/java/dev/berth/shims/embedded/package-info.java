/**
 * The embedded runtime: plain host processes run from inside the JVM, with no shim process and no root. Each task
 * leads its own process group; children are spawned with {@code posix_spawn} (no JVM descriptor leaks into them),
 * their stdio are {@code pipe2(O_CLOEXEC)} pipes on the epoll loop, and exits are seen through pidfds on the same
 * loop: no thread per process, no {@code waitpid(-1)}. A task ends with its init, as a container ends with its pid
 * namespace: when the init exits, what is left of its process group is killed, and the execs' exits are reported
 * before the init's. Exits are read without reaping, so a pid or group id is never reused while the task exists;
 * delete reaps. API: {@link dev.berth.shims.embedded.EmbeddedRuntime}.
 */
@NullMarked
package dev.berth.shims.embedded;

import org.jspecify.annotations.NullMarked;
