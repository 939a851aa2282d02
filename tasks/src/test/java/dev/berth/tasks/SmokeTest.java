package dev.berth.tasks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.Berth;
import dev.berth.core.ExitStatus;
import dev.berth.core.TaskService;
import dev.berth.core.TaskSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

class SmokeTest {
    @Test
    void echoRuns() {
        TaskService berth = Berth.embedded();
        try {
            String out = berth.create(TaskSpec.process("hello", "sh", "-c", "echo hi; exit 3"))
                    .flatMap(task -> {
                        Mono<ExitStatus> exit = task.exit();
                        Mono<String> text = task.stdout().map(b -> StandardCharsets.UTF_8.decode(b).toString())
                                .collectList().map(l -> String.join("", l));
                        return task.start().then(Mono.zip(exit, text))
                                .flatMap(t -> task.delete().thenReturn(t.getT1() + " " + t.getT2()));
                    })
                    .block(Duration.ofSeconds(10));
            assertThat(out).startsWith("exited(3)").endsWith("hi\n");
        } finally {
            berth.close().block(Duration.ofSeconds(10));
        }
    }
}
