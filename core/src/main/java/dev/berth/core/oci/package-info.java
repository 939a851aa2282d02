/**
 * The OCI runtime spec ({@code config.json}) as containerd and runc use it: immutable records that Jackson reads and
 * writes with the spec's own camelCase names, {@link dev.berth.core.oci.OciSpecs} to convert to and from JSON, and
 * {@link dev.berth.core.oci.Spec#defaults} for the spec {@code ctr run --rootfs} generates. Absent fields stay absent
 * on output. API.
 */
@NullMarked
package dev.berth.core.oci;

import org.jspecify.annotations.NullMarked;
