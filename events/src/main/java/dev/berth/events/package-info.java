/**
 * Berth's events: containerd's event payloads and envelope (generated from this module's {@code .proto} files into
 * {@code dev.berth.events.proto.*}) and {@link dev.berth.events.EventTypes}, which packs them into
 * {@code google.protobuf.Any} the way containerd does. API.
 */
@NullMarked
package dev.berth.events;

import org.jspecify.annotations.NullMarked;
