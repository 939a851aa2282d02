/**
 * Internal, not API: the parts of Berth's shim v2 runtime. The client side of containerd's shim v2 task service
 * ({@code containerd.task.v2.Task} over ttrpc) and the helpers that decode its messages; the generated messages are
 * in {@code dev.berth.shims.internal.v2.proto} (package {@code containerd.task.v2}) and
 * {@code dev.berth.shims.internal.v2.proto.types} (package {@code containerd.v1.types}); see
 * shared/spec/shim-v2-ttrpc.md §4. And the launch of v2 shim binaries ({@code containerd-shim-runc-v2} and
 * friends): resolving a runtime name to its binary, laying out bundle directories ({@code config.json}, the
 * {@code log} FIFO, stdio FIFOs) and running the shim's {@code start} and {@code delete} actions exactly as
 * containerd 1.6 does (§3).
 */
@NullMarked
package dev.berth.shims.internal.v2;

import org.jspecify.annotations.NullMarked;
