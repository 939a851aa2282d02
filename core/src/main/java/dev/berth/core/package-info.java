/**
 * Berth's public API and value types: {@link dev.berth.core.TaskService}, {@link dev.berth.core.Task},
 * {@link dev.berth.core.Process}, identifiers and namespaces, the error model ({@link dev.berth.core.BerthException}
 * with an {@link dev.berth.core.ErrorKind}) and the specs tasks are created from. API.
 */
@NullMarked
package dev.berth.core;

import org.jspecify.annotations.NullMarked;
