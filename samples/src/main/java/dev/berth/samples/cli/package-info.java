/**
 * The {@code berth} command line: {@link dev.berth.samples.cli.BerthCli} and its commands ({@code run}, {@code exec},
 * {@code ps}, {@code kill}, {@code rm}, {@code events}), a sample program over the public API. Not API: nothing
 * here is meant to be called from other code.
 */
@NullMarked
package dev.berth.samples.cli;

import org.jspecify.annotations.NullMarked;
