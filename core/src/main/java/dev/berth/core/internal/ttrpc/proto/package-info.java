/**
 * Internal: protoc-generated classes of the ttrpc envelope ({@code ttrpc.Request}, {@code ttrpc.Response},
 * {@code ttrpc.KeyValue}) and of {@code google.rpc.Status}, from core's src/main/proto. Not API.
 */
@NullMarked
package dev.berth.core.internal.ttrpc.proto;

import org.jspecify.annotations.NullMarked;
