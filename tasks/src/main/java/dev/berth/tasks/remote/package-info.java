/**
 * The remote {@link dev.berth.core.TaskService}: a reactive client of a containerd 1.6 daemon over gRPC (spec
 * containerd-grpc-api.md). Internal: not API. The one public type, {@link dev.berth.tasks.remote.RemoteTaskService},
 * is public only so that {@code dev.berth.Berth.containerd(Path)} can create it; use that factory.
 */
@NullMarked
package dev.berth.tasks.remote;

import org.jspecify.annotations.NullMarked;
