package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.util.context.Context;

class NamespacesTest {
    static final Duration BOUND = Duration.ofSeconds(5);

    @Test
    void currentIsTheDefaultNamespaceWhenTheContextHasNone() {
        StepVerifier.create(Namespaces.current())
                .expectNext(Namespaces.DEFAULT)
                .expectComplete()
                .verify(BOUND);
        assertThat(Namespaces.of(Context.empty())).isEqualTo("default");
    }

    @Test
    void currentIsTheNamespaceSetWithWith() {
        StepVerifier.create(Namespaces.current().contextWrite(Namespaces.with("builds")))
                .expectNext("builds")
                .expectComplete()
                .verify(BOUND);
    }

    @Test
    void currentReadsEachSubscribersOwnContext() {
        Mono<String> current = Namespaces.current();

        StepVerifier.create(current.contextWrite(Namespaces.with("one"))).expectNext("one").expectComplete()
                .verify(BOUND);
        StepVerifier.create(current.contextWrite(Namespaces.with("two"))).expectNext("two").expectComplete()
                .verify(BOUND);
    }

    @Test
    void anInvalidNamespaceInTheContextFailsWithInvalidArgument() {
        StepVerifier.create(Namespaces.current().contextWrite(ctx -> ctx.put(Namespaces.KEY, "not valid")))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(BOUND);
    }

    @Test
    void aNamespaceThatIsNotAStringFailsWithInvalidArgument() {
        StepVerifier.create(Namespaces.current().contextWrite(Context.of(Namespaces.KEY, 42)))
                .expectErrorMatches(e -> Errors.is(e, ErrorKind.INVALID_ARGUMENT))
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void withRejectsAnInvalidNamespaceBeforeAnySubscription() {
        assertThat(Errors.kindOf(catchThrowable(() -> Namespaces.with("../etc"))))
                .isEqualTo(ErrorKind.INVALID_ARGUMENT);
    }
}
