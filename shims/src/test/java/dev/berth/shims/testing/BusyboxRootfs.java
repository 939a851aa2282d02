package dev.berth.shims.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * A minimal container rootfs made from Debian's static busybox: {@code bin/busybox}, applet symlinks and empty
 * {@code proc}, {@code dev}, {@code sys} and {@code tmp}. Without {@code /bin/busybox} the test is skipped, or
 * fails when {@code CI=true}.
 */
public final class BusyboxRootfs {
    public static final Path BUSYBOX = Path.of("/bin/busybox");
    public static final List<String> APPLETS = List.of("sh", "true", "echo", "cat", "sleep", "ls", "env", "yes",
            "head", "seq");
    public static final List<String> DIRS = List.of("proc", "dev", "sys", "tmp");

    private BusyboxRootfs() {
    }

    /** Builds the rootfs in {@code dir} (created if missing) and returns it. */
    public static Path create(Path dir) throws IOException {
        requireBusybox();
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.copy(BUSYBOX, bin.resolve("busybox"), StandardCopyOption.COPY_ATTRIBUTES);
        for (String applet : APPLETS) {
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        for (String d : DIRS) {
            Files.createDirectories(dir.resolve(d));
        }
        return dir;
    }

    public static void requireBusybox() {
        if (Files.isExecutable(BUSYBOX)) {
            return;
        }
        String why = BUSYBOX + " is missing: install busybox-static to run the container tests";
        if ("true".equals(System.getenv("CI"))) {
            fail(why);
        }
        System.err.println("SKIPPED: " + why);
        Assumptions.abort(why);
    }
}
