/**
 * Internal: the undo stack of a create that owns resources step by step (a shim runtime's create, the remote
 * client's create), shared by the modules that need it. Not API.
 */
@NullMarked
package dev.berth.core.internal.undo;

import org.jspecify.annotations.NullMarked;
