/**
 * Internal, not API: the client side of containerd's shim v2 task service ({@code containerd.task.v2.Task} over
 * ttrpc) and the helpers that decode its messages. The generated messages are in
 * {@code dev.berth.shims.internal.v2.proto} (package {@code containerd.task.v2}) and
 * {@code dev.berth.shims.internal.v2.proto.types} (package {@code containerd.v1.types}); see
 * shared/spec/shim-v2-ttrpc.md §4.
 */
@NullMarked
package dev.berth.shims.internal.v2;

import org.jspecify.annotations.NullMarked;
