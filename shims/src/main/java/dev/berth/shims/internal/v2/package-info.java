/**
 * Internal: launching containerd v2 shim binaries ({@code containerd-shim-runc-v2} and friends). Resolves a runtime
 * name to its binary, lays out bundle directories ({@code config.json}, the {@code log} FIFO, stdio FIFOs) and runs
 * the shim's {@code start} and {@code delete} actions exactly as containerd 1.6 does. Not API.
 */
@NullMarked
package dev.berth.shims.internal.v2;

import org.jspecify.annotations.NullMarked;
