package dev.berth.shims.internal.v2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.core.RuntimeSchedulers;
import dev.berth.core.Stdio;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

class OutputFilesTest {
    static final Duration WAIT = Duration.ofSeconds(5);
    static final Path FIFO = Path.of("/state/ns/web/web-stdout");

    final RuntimeSchedulers schedulers = RuntimeSchedulers.create("output-files-test");

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        schedulers.dispose();
    }

    static Stdio stdio(Stdio.Output out, Stdio.Output err) {
        return new Stdio(Stdio.Input.NULL, out, err);
    }

    @Test
    void aPipeGoesThroughItsFifoAndAFileByItsPath() {
        Path log = Path.of("/var/log/web.log");
        Stdio split = stdio(Stdio.Output.appendTo(log), Stdio.Output.PIPE);

        assertThat(OutputFiles.stdoutTarget(split, FIFO)).isEqualTo("/var/log/web.log");
        assertThat(OutputFiles.stderrTarget(split, FIFO)).isEqualTo(FIFO.toString());
        assertThat(OutputFiles.stderrTarget(stdio(Stdio.Output.PIPE, Stdio.Output.appendTo(log)), FIFO))
                .isEqualTo("/var/log/web.log");
    }

    @Test
    void oneFileForBothStreamsIsSpeltApartForStderrSoTheShimOpensItTwice() {
        Path log = Path.of("/var/log/web.log");
        Stdio both = stdio(Stdio.Output.appendTo(log), Stdio.Output.appendTo(log));

        assertThat(OutputFiles.stdoutTarget(both, FIFO)).isEqualTo("/var/log/web.log");
        assertThat(OutputFiles.stderrTarget(both, FIFO)).isEqualTo("/var/log/./web.log");
        assertThat(Path.of(OutputFiles.stderrTarget(both, FIFO)).normalize()).isEqualTo(log);
    }

    @Test
    void prepareCreatesMissingFilesAndParentsAndReportsOnlyThose() throws IOException {
        Path fresh = dir.resolve("a/b/fresh.log");
        Path existing = Files.writeString(dir.resolve("existing.log"), "kept\n");

        List<Path> created = OutputFiles.prepare(stdio(Stdio.Output.appendTo(fresh), Stdio.Output.appendTo(existing)),
                schedulers).block(WAIT);

        assertThat(created).containsExactly(fresh);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh))).isEqualTo("rw-r--r--");
        assertThat(Files.readString(existing)).isEqualTo("kept\n");
        StepVerifier.create(OutputFiles.removeCreated(created, schedulers)).expectComplete().verify(WAIT);
        assertThat(fresh).doesNotExist();
        assertThat(existing).exists();
    }

    @Test
    void aCreatedFileSomeoneWroteToIsKept() throws IOException {
        Path fresh = dir.resolve("fresh.log");
        List<Path> created = OutputFiles.prepare(stdio(Stdio.Output.appendTo(fresh), Stdio.Output.NULL), schedulers)
                .block(WAIT);
        Files.writeString(fresh, "output\n");

        StepVerifier.create(OutputFiles.removeCreated(created, schedulers)).expectComplete().verify(WAIT);

        assertThat(fresh).hasContent("output");
    }

    @Test
    void aPathThatIsNotARegularFileIsInvalidAndWhatWasCreatedIsUndone() throws IOException {
        Path fresh = dir.resolve("fresh.log");
        Path directory = Files.createDirectory(dir.resolve("d"));

        StepVerifier.create(OutputFiles.prepare(stdio(Stdio.Output.appendTo(fresh), Stdio.Output.appendTo(directory)),
                        schedulers))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(WAIT);
        assertThat(fresh).doesNotExist();
    }

    @Test
    void noFileMeansNothingToDo() {
        StepVerifier.create(OutputFiles.prepare(Stdio.DEFAULT, schedulers)).expectNext(List.of()).expectComplete()
                .verify(WAIT);
    }
}
