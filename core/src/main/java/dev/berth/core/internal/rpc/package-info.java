/**
 * Internal: the one mapping between gRPC/ttrpc status codes and Berth's {@link dev.berth.core.ErrorKind}, used by the
 * ttrpc transport here in core and by the gRPC clients and services of the other modules. Not API.
 */
@NullMarked
package dev.berth.core.internal.rpc;

import org.jspecify.annotations.NullMarked;
