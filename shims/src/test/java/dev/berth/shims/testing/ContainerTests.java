package dev.berth.shims.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * What every container test shares: the one gate deciding whether it runs (root, runc, the shim, busybox), and the
 * scan for shims a test may have left behind. Under {@code CI=true} a missing prerequisite fails the test; elsewhere
 * it skips with one loud line.
 */
public final class ContainerTests {
    /** The shim binary of {@code io.containerd.runc.v2}. */
    public static final String SHIM = "containerd-shim-runc-v2";

    private ContainerTests() {
    }

    /** Fails (CI) or skips (elsewhere) unless this JVM is root and runc, the shim and busybox are installed. */
    public static void requirePrerequisites(String suite) {
        List<String> missing = new ArrayList<>();
        if (!isRoot()) {
            missing.add("root");
        }
        if (!onPath(SHIM)) {
            missing.add(SHIM);
        }
        if (!onPath("runc")) {
            missing.add("runc");
        }
        if (!Files.isExecutable(BusyboxRootfs.BUSYBOX)) {
            missing.add("busybox-static");
        }
        if (!missing.isEmpty()) {
            String why = suite + " needs " + missing + " (Debian: runc, containerd, busybox-static; run as root)";
            if ("true".equals(System.getenv("CI"))) {
                fail(why);
            }
            System.err.println("SKIPPED: " + why);
            Assumptions.abort(why);
        }
    }

    /** Whether {@code name} is executable on PATH or in /usr/sbin and /sbin (where Debian puts runc). */
    public static boolean onPath(String name) {
        String path = System.getenv("PATH") == null ? "" : System.getenv("PATH");
        return Stream.concat(Stream.of(path.split(":")), Stream.of("/usr/sbin", "/sbin"))
                .filter(d -> d.startsWith("/"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, name)));
    }

    /** Whether this JVM runs with uid 0. */
    public static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[1].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }

    /** Live {@code containerd-shim-runc-v2} processes whose command line holds {@code address}. */
    public static List<ProcessHandle> shimsOf(String address) throws IOException {
        List<ProcessHandle> found = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                String cmdline;
                try {
                    cmdline = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    continue; // exited meanwhile
                }
                List<String> argv = List.of(cmdline.split("\0"));
                if (!argv.isEmpty() && argv.get(0).endsWith(SHIM) && argv.contains(address)) {
                    ProcessHandle.of(Long.parseLong(proc.getFileName().toString())).ifPresent(found::add);
                }
            }
        }
        return found;
    }

    /**
     * Removes whatever a container test left under {@code state}, whatever happened: kills the shims carrying the
     * state's address, removes their sockets, force-deletes the runc containers of every namespace's bundles (runc's
     * root is {@code <state>/.runc}) and
     * unmounts their rootfs. Best effort; for {@code @AfterEach} and {@code @AfterAll}.
     */
    public static void removeLeftovers(Path state) throws Exception {
        if (state == null) {
            return;
        }
        for (ProcessHandle stray : shimsOf(state.toAbsolutePath().normalize().toString())) {
            System.err.println("killing stray shim " + stray.pid());
            stray.destroyForcibly();
            stray.onExit().get();
        }
        if (!Files.isDirectory(state)) {
            return;
        }
        try (Stream<Path> namespaces = Files.list(state)) {
            for (Path namespace : namespaces.filter(Files::isDirectory).toList()) {
                try (Stream<Path> left = Files.list(namespace)) {
                    for (Path bundle : left.filter(b -> Files.exists(b.resolve("config.json"))).toList()) {
                        Path address = bundle.resolve("address");
                        if (Files.exists(address)) {
                            Files.deleteIfExists(Path.of(Files.readString(address).strip().replace("unix://", "")));
                        }
                        runQuietly("runc", "--root", state.resolve(".runc").resolve(namespace.getFileName())
                                .toString(), "delete", "--force", bundle.getFileName().toString());
                        runQuietly("umount", bundle.resolve("rootfs").toString());
                    }
                }
            }
        }
    }

    /** Runs a command, ignoring its output and outcome. */
    public static void runQuietly(String... argv) {
        try {
            new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start().waitFor();
        } catch (IOException e) {
            // best effort
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
