package dev.berth.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Proves this module's suite runs under BlockHound, so the exchange's tests also check it never blocks. */
class BlockHoundIsActiveTest {
    @Test
    void aBlockingCallOnANonBlockingThreadFails() {
        Throwable error = Mono.fromCallable(() -> {
                    Thread.sleep(1);
                    return "slept";
                })
                .subscribeOn(Schedulers.parallel())
                .map(Object::toString)
                .onErrorResume(e -> Mono.just(e.getClass().getName()))
                .map(name -> (Throwable) new AssertionError(name))
                .block(Duration.ofSeconds(5));
        assertThat(error).hasMessage(BlockingOperationError.class.getName());
    }
}
