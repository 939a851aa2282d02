/** The {@link dev.berth.Berth} entry point. API. */
@NullMarked
package dev.berth;

import org.jspecify.annotations.NullMarked;
