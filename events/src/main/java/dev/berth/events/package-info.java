/**
 * Berth's events: containerd's event payloads and envelope (generated from this module's {@code .proto} files into
 * {@code dev.berth.events.proto.*}) and {@link dev.berth.events.EventTypes}, which packs them into
 * {@code google.protobuf.Any} the way containerd does; the {@link dev.berth.events.EventExchange} every lifecycle event
 * goes through, {@link dev.berth.events.EventsSocket}, the ttrpc endpoint containerd 1.6 shims forward their
 * events to, and {@link dev.berth.events.OrderedHandler} for handling events in order per task. API.
 */
@NullMarked
package dev.berth.events;

import org.jspecify.annotations.NullMarked;
