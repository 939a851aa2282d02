package dev.berth.samples.cli;

import dev.berth.core.Signal;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Traps signals with {@code sun.misc.Signal} (module jdk.unsupported), the only way in Java 17 to catch SIGINT
 * without exiting. A JVM without it, or one started with {@code -Xrs}, cannot trap: then the shutdown hook alone
 * makes sure the task is deleted when the JVM exits.
 */
final class JvmSignalTrap implements SignalTrap {
    private static final Logger log = LoggerFactory.getLogger(JvmSignalTrap.class);

    @Override
    public Registration trap(Consumer<Signal> handler) {
        List<Runnable> restores = new ArrayList<>();
        for (Signal signal : FORWARDED) {
            try {
                sun.misc.Signal jvmSignal = new sun.misc.Signal(signal.name());
                sun.misc.SignalHandler previous = sun.misc.Signal.handle(jvmSignal, s -> handler.accept(signal));
                restores.add(() -> sun.misc.Signal.handle(jvmSignal, previous));
            } catch (LinkageError | IllegalArgumentException | UnsupportedOperationException e) {
                // The signal is reserved (-Xrs) or sun.misc is missing: fall back to the shutdown hook.
                log.debug("cannot trap {}, relying on the shutdown hook", signal, e);
            }
        }
        return () -> {
            restores.forEach(Runnable::run);
            restores.clear();
        };
    }

    @Override
    public Registration atShutdown(Runnable hook) {
        Thread thread = new Thread(hook, "berth-shutdown");
        Runtime.getRuntime().addShutdownHook(thread);
        return () -> {
            try {
                Runtime.getRuntime().removeShutdownHook(thread);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down: the hook runs (or ran) and does the same cleanup.
                log.debug("shutdown in progress, hook stays", e);
            }
        };
    }
}
