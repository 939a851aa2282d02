package dev.berth.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** The CLI tests mean something only under BlockHound: a blocking call on a parallel thread must fail here. */
class BlockHoundIsActiveTest {
    @Test
    void blockingOnAParallelThreadFails() {
        String failure = Mono.fromCallable(() -> {
                    Thread.sleep(1);
                    return "no error";
                })
                .subscribeOn(Schedulers.parallel())
                .onErrorResume(e -> Mono.just(e.getClass().getName()))
                .block(Duration.ofSeconds(5));

        assertThat(failure).isEqualTo(BlockingOperationError.class.getName());
    }
}
