package dev.berth.samples.cli;

import dev.berth.Berth;
import dev.berth.core.TaskService;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;

/**
 * The {@code berth} command line. {@link #main} runs it over {@link Berth#embedded()} and the process's own
 * streams; {@link #execute} runs it over any {@link TaskService} and streams and returns the exit code, which is
 * how the tests drive it.
 *
 * <p>Exit codes: the task's own code; {@code 128 + N} when signal N killed it; 125 when berth itself fails (bad
 * flags, invalid id, runtime error); 126 when the command cannot be executed; 127 when it is not found.
 */
public final class BerthCli {
    /** The environment variable giving the namespace when {@code --namespace} is absent. */
    static final String NAMESPACE_VARIABLE = "BERTH_NAMESPACE";

    final Supplier<TaskService> services;
    final InputStream in;
    final PrintStream out;
    final PrintStream err;
    final Function<String, @Nullable String> environment;
    final SignalTrap signals;

    /**
     * A command line over the task service {@code services} gives (asked once per run, and closed by the run),
     * reading task input from {@code in} and writing task output to {@code out} and {@code err}. Signals and the
     * {@code BERTH_NAMESPACE} variable are the JVM's.
     */
    public BerthCli(Supplier<TaskService> services, InputStream in, PrintStream out, PrintStream err) {
        this(services, in, out, err, System::getenv, SignalTrap.system());
    }

    BerthCli(Supplier<TaskService> services, InputStream in, PrintStream out, PrintStream err,
            Function<String, @Nullable String> environment, SignalTrap signals) {
        this.services = Objects.requireNonNull(services, "services");
        this.in = Objects.requireNonNull(in, "in");
        this.out = Objects.requireNonNull(out, "out");
        this.err = Objects.requireNonNull(err, "err");
        this.environment = Objects.requireNonNull(environment, "environment");
        this.signals = Objects.requireNonNull(signals, "signals");
    }

    /** This command line with {@code environment} as its environment variables instead of the JVM's. */
    BerthCli withEnvironment(Map<String, String> environment) {
        Map<String, String> copy = Map.copyOf(environment);
        return new BerthCli(services, in, out, err, copy::get, signals);
    }

    /** This command line hearing signals from {@code signals} instead of the JVM. */
    BerthCli withSignals(SignalTrap signals) {
        return new BerthCli(services, in, out, err, environment, signals);
    }

    /** Runs {@code berth} over the embedded runtime and exits the JVM with its exit code. */
    public static void main(String[] args) {
        // Before any logger exists: the runtime's INFO lines are noise on a command's stderr.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        int code = new BerthCli(Berth::embedded, System.in, System.out, System.err).execute(args);
        System.exit(code);
    }

    /**
     * Parses {@code args} and runs the command. Blocks until the command is done: for {@code run}, until the task
     * exited, its output was copied and it was deleted.
     *
     * @return the exit code; see the class comment
     */
    public int execute(String... args) {
        CommandLine cli = new CommandLine(new TopCommand(this));
        cli.addSubcommand(new RunCommand(this));
        cli.addSubcommand(new EventsCommand(this));
        // "berth run ID echo -n hi": everything after the id belongs to the command, options included.
        cli.getSubcommands().get("run").setStopAtPositional(true);
        cli.getCommandSpec().version("berth " + version());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setParameterExceptionHandler((e, ignored) -> {
            report(e.getMessage());
            return ExitCodes.BERTH_ERROR;
        });
        cli.setExecutionExceptionHandler((e, ignored, parsed) -> {
            report(e.getMessage() == null ? e.toString() : e.getMessage());
            return ExitCodes.BERTH_ERROR;
        });
        return cli.execute(args);
    }

    /** Prints one {@code berth: message} line on stderr. */
    void report(String message) {
        err.println("berth: " + message.strip().replaceAll("\\s*[\\r\\n]+\\s*", " "));
        err.flush();
    }

    private static String version() {
        String version = BerthCli.class.getPackage().getImplementationVersion();
        return version == null ? "(development build)" : version;
    }
}
