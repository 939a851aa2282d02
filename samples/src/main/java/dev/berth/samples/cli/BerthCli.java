package dev.berth.samples.cli;

import dev.berth.Berth;
import dev.berth.LocalConfig;
import dev.berth.core.TaskService;
import dev.berth.tasks.ClosePolicy;
import dev.berth.tasks.TaskManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;

/**
 * The {@code berth} command line. {@link #main} runs it over {@link Berth#local(LocalConfig)} (both local runtimes,
 * containers detached rather than stopped when the command ends) and the process's own streams; {@link #execute}
 * runs it over any {@link TaskManager} and streams and returns the exit code, which is how the tests drive it. With
 * {@code --containerd SOCKET} (or {@code BERTH_CONTAINERD}) the commands act on that containerd daemon instead,
 * through {@link Berth#containerd(Path)}.
 *
 * <p>Exit codes: the task's own code; {@code 128 + N} when signal N killed it; 125 when berth itself fails (bad
 * flags, invalid id, runtime error); 126 when the command cannot be executed; 127 when it is not found.
 */
public final class BerthCli {
    /** The environment variable giving the namespace when {@code --namespace} is absent. */
    static final String NAMESPACE_VARIABLE = "BERTH_NAMESPACE";
    /** The environment variable giving the state directory when {@code --state} is absent. */
    static final String STATE_VARIABLE = "BERTH_STATE";
    /** The environment variable giving the containerd socket when {@code --containerd} is absent. */
    static final String CONTAINERD_VARIABLE = "BERTH_CONTAINERD";

    final Function<Path, ? extends TaskManager> services;
    /** The task service over the containerd daemon listening on a socket, for {@code --containerd}. */
    final Function<Path, ? extends TaskService> daemons;
    final InputStream in;
    final PrintStream out;
    final PrintStream err;
    final Function<String, @Nullable String> environment;
    final SignalTrap signals;
    /** Whether this process runs as root, which containers need. */
    final BooleanSupplier root;

    /**
     * A command line over the task service {@code services} makes for a state directory (asked at most once per
     * command, and closed by it), reading task input from {@code in} and writing task output to {@code out} and
     * {@code err}. Signals and the {@code BERTH_NAMESPACE} and {@code BERTH_STATE} variables are the JVM's.
     */
    public BerthCli(Function<Path, ? extends TaskManager> services, InputStream in, PrintStream out,
            PrintStream err) {
        this(services, in, out, err, System::getenv, SignalTrap.system());
    }

    BerthCli(Function<Path, ? extends TaskManager> services, InputStream in, PrintStream out, PrintStream err,
            Function<String, @Nullable String> environment, SignalTrap signals) {
        this(services, DaemonSocket::open, in, out, err, environment, signals, BerthCli::isRoot);
    }

    private BerthCli(Function<Path, ? extends TaskManager> services, Function<Path, ? extends TaskService> daemons,
            InputStream in, PrintStream out, PrintStream err, Function<String, @Nullable String> environment,
            SignalTrap signals, BooleanSupplier root) {
        this.services = Objects.requireNonNull(services, "services");
        this.daemons = Objects.requireNonNull(daemons, "daemons");
        this.in = Objects.requireNonNull(in, "in");
        this.out = Objects.requireNonNull(out, "out");
        this.err = Objects.requireNonNull(err, "err");
        this.environment = Objects.requireNonNull(environment, "environment");
        this.signals = Objects.requireNonNull(signals, "signals");
        this.root = Objects.requireNonNull(root, "root");
    }

    /** This command line with {@code environment} as its environment variables instead of the JVM's. */
    BerthCli withEnvironment(Map<String, String> environment) {
        Map<String, String> copy = Map.copyOf(environment);
        return new BerthCli(services, daemons, in, out, err, copy::get, signals, root);
    }

    /**
     * This command line making the service for {@code --containerd SOCKET} with {@code daemons} instead of
     * {@link Berth#containerd(Path)} (asked at most once per command, and closed by it).
     */
    BerthCli withContainerd(Function<Path, ? extends TaskService> daemons) {
        return new BerthCli(services, daemons, in, out, err, environment, signals, root);
    }

    /** This command line hearing signals from {@code signals} instead of the JVM. */
    BerthCli withSignals(SignalTrap signals) {
        return new BerthCli(services, daemons, in, out, err, environment, signals, root);
    }

    /** This command line believing it runs as root, or not. */
    BerthCli withRoot(boolean isRoot) {
        return new BerthCli(services, daemons, in, out, err, environment, signals, () -> isRoot);
    }

    /**
     * Runs {@code berth} over both local runtimes and exits the JVM with its exit code. Containers are detached when
     * the command ends, for the next command to take over.
     */
    public static void main(String[] args) {
        // Before any logger exists: the runtime's INFO lines are noise on a command's stderr.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        // grpc-netty asks every channel for SO_KEEPALIVE, which a Unix socket does not have, and Netty warns about
        // it on each connection to containerd: harmless, and noise on every --containerd command's stderr.
        if (System.getProperty("org.slf4j.simpleLogger.log.io.netty.bootstrap.Bootstrap") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.io.netty.bootstrap.Bootstrap", "error");
        }
        int code = new BerthCli(state -> Berth.local(LocalConfig.of(state).withClosePolicy(ClosePolicy.DETACH)),
                System.in, System.out, System.err).execute(args);
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
        cli.addSubcommand(new ExecCommand(this));
        cli.addSubcommand(new PsCommand(this));
        cli.addSubcommand(new KillCommand(this));
        cli.addSubcommand(new RmCommand(this));
        cli.addSubcommand(new EventsCommand(this));
        // "berth run ID echo -n hi": everything after the id belongs to the command, options included.
        cli.getSubcommands().get("run").setStopAtPositional(true);
        cli.getSubcommands().get("exec").setStopAtPositional(true);
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

    /** Whether this JVM runs with effective uid 0, read from {@code /proc/self/status} (Linux only). */
    private static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(line -> line.startsWith("Uid:"))
                    .anyMatch(line -> line.split("\\s+")[2].equals("0"));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static String version() {
        String version = BerthCli.class.getPackage().getImplementationVersion();
        return version == null ? "(development build)" : version;
    }
}
