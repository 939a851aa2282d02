package dev.berth.core;

import reactor.core.publisher.Mono;

/** A resource released asynchronously. */
public interface AsyncCloseable {
    /**
     * Releases the resource.
     *
     * @return a cold Mono that completes when the resource is released; subscribing again after completion
     *     completes at once
     */
    Mono<Void> close();
}
