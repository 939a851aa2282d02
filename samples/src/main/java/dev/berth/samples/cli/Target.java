package dev.berth.samples.cli;

import java.nio.file.Path;

/**
 * Where a command's tasks live: the local runtimes over a state directory (whose containers a command takes over
 * first, holding the directory's lock), or a containerd daemon (which keeps its tasks itself: nothing to take over,
 * no lock, no state directory).
 */
sealed interface Target {
    /** What to name in a message about this target: the state directory, or the daemon's socket. */
    String describe();

    /** The local runtimes over the state directory {@code state}. */
    record Local(Path state) implements Target {
        @Override
        public String describe() {
            return state.toString();
        }
    }

    /** The containerd daemon listening on {@code socket}. */
    record Containerd(Path socket) implements Target {
        @Override
        public String describe() {
            return "containerd at " + socket;
        }
    }
}
