package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class TaskSpecTest {
    @Test
    void aWellFormedSpecValidatesToItself() {
        TaskSpec spec = TaskSpec.builder("web-1", ProcessSpec.of("/bin/sh")).runtime("io.containerd.runc.v2")
                .rootfs(Path.of("/tmp/rootfs")).build();

        assertThat(spec.validate()).isSameAs(spec);
        assertThat(TaskSpec.process("t1", "/bin/true").validate().runtime()).isEmpty();
    }

    @Test
    void toBuilderGivesAnEqualSpec() {
        TaskSpec spec = TaskSpec.builder("t1", ProcessSpec.of("/bin/sh")).runtime("embedded")
                .rootfs(Path.of("/r")).build();

        assertThat(spec.toBuilder().build()).isEqualTo(spec);
        assertThat(spec.toBuilder().process(ProcessSpec.of("/bin/true")).build().process())
                .isEqualTo(ProcessSpec.of("/bin/true"));
    }

    @Test
    void aBadIdIsAnInvalidArgument() {
        assertInvalid(TaskSpec.process("", "/bin/true"));
        assertInvalid(TaskSpec.process("a b", "/bin/true"));
        assertInvalid(TaskSpec.process("../t1", "/bin/true"));
        assertInvalid(TaskSpec.process("t".repeat(Identifiers.MAX_LENGTH + 1), "/bin/true"));
    }

    @Test
    void aRuntimeNameWithASlashIsAnInvalidArgument() {
        assertInvalid(TaskSpec.builder("t1", ProcessSpec.of("/bin/true")).runtime("/usr/bin/runc").build());
        assertInvalid(TaskSpec.builder("t1", ProcessSpec.of("/bin/true")).runtime("a/b").build());
    }

    @Test
    void anInvalidProcessMakesTheTaskAnInvalidArgument() {
        assertInvalid(TaskSpec.of("t1", ProcessSpec.builder("/bin/true").cwd("relative").build()));
        assertInvalid(TaskSpec.process("t1"));
    }

    static void assertInvalid(TaskSpec spec) {
        assertThat(Errors.kindOf(catchThrowable(spec::validate))).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    }
}
