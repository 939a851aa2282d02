package dev.berth.shims.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.ProcessSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandTest {
    @TempDir
    Path dir;

    private Path executable(String name) throws IOException {
        Path p = Files.writeString(dir.resolve(name), "#!/bin/sh\n");
        assertThat(p.toFile().setExecutable(true)).isTrue();
        return p;
    }

    @Test
    void aNameIsSearchedOnTheSpecsPathBeforeTheHosts() throws IOException {
        Path tool = executable("berth-tool");
        Command c = Command.resolve(ProcessSpec.builder("berth-tool").env("PATH", "/nonexistent:" + dir).build(),
                Map.of("PATH", "/usr/bin"));
        assertThat(c.program()).isEqualTo(tool.toString());
        assertThat(c.envp()).contains("PATH=/nonexistent:" + dir);
    }

    @Test
    void theHostEnvironmentIsInheritedAndTheSpecOverridesIt() {
        Command c = Command.resolve(ProcessSpec.builder("true").env("A", "spec").build(),
                Map.of("A", "host", "B", "host", "PATH", "/usr/bin:/bin"));
        assertThat(c.envp()).contains("A=spec", "B=host");
    }

    @Test
    void aRelativePathResolvesAgainstTheWorkingDirectory() throws IOException {
        Path tool = executable("local-tool");
        Command c = Command.resolve(ProcessSpec.builder("./local-tool").cwd(dir.toString()).build(), Map.of());
        assertThat(c.program()).isEqualTo(tool.toString());
        assertThat(c.argv()).containsExactly("./local-tool");
    }

    @Test
    void aMissingProgramIsNotFoundAndANonExecutableOneIsPermissionDenied() throws IOException {
        Files.writeString(dir.resolve("plain"), "data");
        Throwable missing = catchThrowable(() -> Command.resolve(ProcessSpec.of("no-such-berth-tool"),
                Map.of("PATH", dir.toString())));
        Throwable plain = catchThrowable(() -> Command.resolve(ProcessSpec.of("plain"),
                Map.of("PATH", dir.toString())));
        Throwable directory = catchThrowable(() -> Command.resolve(ProcessSpec.of(dir.toString()), Map.of()));
        assertThat(Errors.kindOf(missing)).isEqualTo(ErrorKind.NOT_FOUND);
        assertThat(Errors.kindOf(plain)).isEqualTo(ErrorKind.PERMISSION_DENIED);
        assertThat(Errors.kindOf(directory)).isEqualTo(ErrorKind.PERMISSION_DENIED);
    }

    @Test
    void aWorkingDirectoryThatIsNotADirectoryIsInvalid() {
        Throwable error = catchThrowable(() -> Command.resolve(
                ProcessSpec.builder("true").cwd(dir.resolve("missing").toString()).build(), Map.of()));
        assertThat(Errors.kindOf(error)).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    }
}
