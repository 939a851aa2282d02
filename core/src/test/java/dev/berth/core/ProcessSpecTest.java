package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProcessSpecTest {
    @Test
    void aWellFormedSpecValidatesToItself() {
        ProcessSpec spec = ProcessSpec.builder("/bin/sh", "-c", "echo hi").env("A", "1").env("EMPTY", "")
                .cwd("/tmp").stdio(Stdio.NULL).build();

        assertThat(spec.validate()).isSameAs(spec);
        assertThat(ProcessSpec.of("true").validate().cwd()).isNull();
    }

    @Test
    void toBuilderGivesAnEqualSpec() {
        ProcessSpec spec = ProcessSpec.builder("/bin/sh").env("A", "1").cwd("/").stdio(Stdio.DEFAULT.withStdinPipe())
                .build();

        assertThat(spec.toBuilder().build()).isEqualTo(spec);
    }

    @Test
    void argsAreCopiedSoLaterChangesDoNotLeakIn() {
        List<String> args = new ArrayList<>(List.of("/bin/echo", "a"));
        ProcessSpec spec = ProcessSpec.builder(args).build();

        args.add("b");

        assertThat(spec.args()).containsExactly("/bin/echo", "a");
    }

    @Test
    void emptyArgsAreAnInvalidArgument() {
        assertInvalid(ProcessSpec.builder(List.of()).build());
        assertInvalid(ProcessSpec.of(""));
    }

    @Test
    void aNulInAnArgumentIsAnInvalidArgument() {
        assertInvalid(ProcessSpec.of("/bin/echo", "a\0b"));
        assertInvalid(ProcessSpec.of("/bin/echo\0"));
    }

    @Test
    void badEnvironmentEntriesAreInvalidArguments() {
        assertInvalid(ProcessSpec.builder("/bin/true").env("", "x").build());
        assertInvalid(ProcessSpec.builder("/bin/true").env("A=B", "x").build());
        assertInvalid(ProcessSpec.builder("/bin/true").env("A\0", "x").build());
        assertInvalid(ProcessSpec.builder("/bin/true").env("A", "x\0y").build());
    }

    @Test
    void aRelativeCwdIsAnInvalidArgument() {
        assertInvalid(ProcessSpec.builder("/bin/true").cwd("tmp").build());
        assertInvalid(ProcessSpec.builder("/bin/true").cwd("").build());
    }

    static void assertInvalid(ProcessSpec spec) {
        assertThat(Errors.kindOf(catchThrowable(spec::validate))).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    }
}
