package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateLockTest {
    @TempDir
    Path dir;

    @Test
    void aSecondOwnerIsRefusedWithTheFirstOwnersPidUntilTheFirstLetsGo() {
        Path state = dir.resolve("state");
        try (StateLock first = StateLock.acquire(state)) {
            assertThat(first.path()).exists();
            assertThatThrownBy(() -> StateLock.acquire(state))
                    .satisfies(e -> assertThat(Errors.kindOf(e)).isEqualTo(ErrorKind.FAILED_PRECONDITION))
                    .hasMessageContaining(state.toString())
                    .hasMessageContaining("pid " + ProcessHandle.current().pid());
        }
        try (StateLock again = StateLock.acquire(state)) {
            assertThat(again.path()).isEqualTo(state.resolve(StateLock.FILE));
        }
    }

    @Test
    void anotherProcessHoldingTheLockIsRefusedToo() throws Exception {
        Path state = Files.createDirectories(dir.resolve("state"));
        Path file = state.resolve(StateLock.FILE);
        // Another JVM (a single-file program) takes the lock the way StateLock does and holds it until its stdin ends.
        Path holderSource = Files.writeString(dir.resolve("Holder.java"), """
                import java.nio.channels.FileChannel;
                import java.nio.file.*;
                public class Holder {
                    public static void main(String[] args) throws Exception {
                        FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE,
                                StandardOpenOption.READ, StandardOpenOption.WRITE);
                        ch.lock();
                        ch.truncate(0);
                        ch.write(java.nio.ByteBuffer.wrap("4242".getBytes()), 0);
                        System.out.println("locked");
                        System.in.read();
                    }
                }
                """);
        String java = ProcessHandle.current().info().command().orElse("java");
        Process holder = new ProcessBuilder(java, holderSource.toString(), file.toString())
                .redirectErrorStream(true)
                .start();
        try {
            assertThat(new String(holder.getInputStream().readNBytes(7))).isEqualTo("locked\n");
            assertThatThrownBy(() -> StateLock.acquire(state))
                    .satisfies(e -> assertThat(Errors.kindOf(e)).isEqualTo(ErrorKind.FAILED_PRECONDITION))
                    .hasMessageContaining("pid 4242");
        } finally {
            holder.getOutputStream().close();
            holder.waitFor();
        }
        try (StateLock mine = StateLock.acquire(state)) {
            assertThat(Files.readString(mine.path())).isEqualTo(Long.toString(ProcessHandle.current().pid()));
        }
    }

    @Test
    void aStateDirectoryThatCannotBeMadeIsATypedError() throws Exception {
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        assertThatThrownBy(() -> StateLock.acquire(file.resolve("state")))
                .isInstanceOf(dev.berth.core.BerthException.class);
    }
}
