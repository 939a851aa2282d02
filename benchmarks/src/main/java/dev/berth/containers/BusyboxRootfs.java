package dev.berth.containers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The smallest container rootfs the benchmarks need: Debian's static busybox as {@code bin/busybox}, the applets they
 * run as symlinks, and empty {@code proc}, {@code dev}, {@code sys} and {@code tmp}. The same layout as the shims
 * test fixture and {@code containers-side-by-side.sh}, so Berth and its peers run the same files.
 */
final class BusyboxRootfs {
    static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final List<String> APPLETS = List.of("sh", "true", "cat", "head", "yes", "dd");
    private static final List<String> DIRS = List.of("proc", "dev", "sys", "tmp");

    private BusyboxRootfs() {
    }

    /** Builds the rootfs in {@code dir} (created if missing) and returns it; fails when busybox is missing. */
    static Path create(Path dir) throws IOException {
        if (!Files.isExecutable(BUSYBOX)) {
            throw new IOException(BUSYBOX + " is missing: install busybox-static");
        }
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
}
