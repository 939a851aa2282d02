/**
 * {@link dev.berth.tasks.TaskManager}: the local {@link dev.berth.core.TaskService} over the Shim SPI (registry per
 * namespace, the per-process state machine, hot exit publishers). API.
 */
@NullMarked
package dev.berth.tasks;

import org.jspecify.annotations.NullMarked;
