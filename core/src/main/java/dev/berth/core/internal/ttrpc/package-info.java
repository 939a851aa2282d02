/**
 * Internal: the ttrpc transport (ttrpc 1.1 as spoken by containerd 1.6 shims, shared/spec/shim-v2-ttrpc.md §1) over
 * Unix domain sockets on reactor-netty. {@link dev.berth.core.internal.ttrpc.TtrpcClient} calls a shim's task service;
 * {@link dev.berth.core.internal.ttrpc.TtrpcServer} serves the events a shim forwards. The shims and events modules use
 * them; they are not API.
 *
 * <p>Wire format: a 10-byte big-endian header (payload length, stream id, type, flags) followed by a protobuf
 * {@code ttrpc.Request} (type 1) or {@code ttrpc.Response} (type 2) of at most 4 MiB. The generated envelope classes
 * are in {@code dev.berth.core.internal.ttrpc.proto}.
 */
@NullMarked
package dev.berth.core.internal.ttrpc;

import org.jspecify.annotations.NullMarked;
