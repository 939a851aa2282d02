/** The operating-system port: Linux system calls behind {@link dev.berth.core.os.Syscalls}. API (SPI). */
@NullMarked
package dev.berth.core.os;

import org.jspecify.annotations.NullMarked;
