package dev.berth.core;

import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * The namespace a call acts in travels in the Reactor {@link reactor.util.context.Context} under {@link #KEY}, as
 * containerd carries it in its request context. A missing namespace means {@link #DEFAULT}.
 *
 * <pre>{@code
 * tasks.create(spec).contextWrite(Namespaces.with("builds"))
 * }</pre>
 */
public final class Namespaces {
    /** The Context key holding the namespace as a String. */
    public static final String KEY = "dev.berth.namespace";
    /** The namespace used when the Context holds none (as {@code ctr} does). */
    public static final String DEFAULT = "default";

    private Namespaces() {
    }

    /**
     * A Context modifier that sets the namespace.
     *
     * @throws BerthException INVALID_ARGUMENT if {@code namespace} is not a valid identifier
     */
    public static java.util.function.Function<reactor.util.context.Context, reactor.util.context.Context> with(
            String namespace) {
        String ns = Identifiers.validate("namespace", namespace);
        return ctx -> ctx.put(KEY, ns);
    }

    /**
     * The namespace in {@code ctx}, {@link #DEFAULT} when absent.
     *
     * @throws BerthException INVALID_ARGUMENT if the Context holds an invalid namespace
     */
    public static String of(ContextView ctx) {
        Object value = ctx.getOrDefault(KEY, DEFAULT);
        if (!(value instanceof String namespace)) {
            throw Errors.invalidArgument("namespace in the Context must be a String, not %s",
                    value == null ? "null" : value.getClass().getName());
        }
        return Identifiers.validate("namespace", namespace);
    }

    /** @return a cold Mono of the subscriber's namespace; fails INVALID_ARGUMENT if the Context holds an invalid one */
    public static Mono<String> current() {
        return Mono.deferContextual(ctx -> Mono.just(of(ctx)));
    }
}
