/**
 * The Shim SPI that {@code TaskManager} drives: a {@link dev.berth.shims.ShimManager} creates one
 * {@link dev.berth.shims.Shim} per task, whose {@link dev.berth.shims.ShimProcess}es are the init and the execs, as
 * containerd's runtime v2 shim manager and task service split the work. API (SPI).
 */
@NullMarked
package dev.berth.shims;

import org.jspecify.annotations.NullMarked;
