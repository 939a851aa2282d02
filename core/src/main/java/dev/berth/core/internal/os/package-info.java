/** Internal: the jnr-ffi binding of glibc and the errno mapping. Not API. */
@NullMarked
package dev.berth.core.internal.os;

import org.jspecify.annotations.NullMarked;
