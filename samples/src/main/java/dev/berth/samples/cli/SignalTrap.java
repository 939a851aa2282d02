package dev.berth.samples.cli;

import dev.berth.core.Signal;
import java.util.function.Consumer;

/**
 * How the CLI hears about signals sent to it and about the JVM shutting down. {@link #system()} is the real one;
 * tests pass a fake so that they neither touch the test JVM's handlers nor need real signals.
 */
interface SignalTrap {
    /** The signals the CLI forwards to its task. */
    Signal[] FORWARDED = {Signal.INT, Signal.TERM};

    /**
     * Calls {@code handler} with each {@link #FORWARDED} signal the JVM receives, instead of letting the JVM exit.
     *
     * @return the registration, closing it restores the previous handlers; when the JVM cannot trap signals this
     *     is a no-op and the JVM shuts down on them as usual (see {@link #atShutdown})
     */
    Registration trap(Consumer<Signal> handler);

    /**
     * Runs {@code hook} if the JVM shuts down while it is registered (a signal not trapped, {@code System.exit}
     * elsewhere), so that the task never outlives the command.
     *
     * @return the registration; closing it unregisters the hook
     */
    Registration atShutdown(Runnable hook);

    /** Something to undo; closing twice is harmless. */
    interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    /** The JVM's own signals and shutdown hooks. */
    static SignalTrap system() {
        return new JvmSignalTrap();
    }
}
