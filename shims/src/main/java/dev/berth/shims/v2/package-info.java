/**
 * API: the shim v2 runtime, which runs tasks as containers through a real v2 shim binary
 * ({@code containerd-shim-runc-v2}) over ttrpc, as containerd 1.6 does. Start with {@link ShimV2Runtime#create}.
 */
@NullMarked
package dev.berth.shims.v2;

import org.jspecify.annotations.NullMarked;
