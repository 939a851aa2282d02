/**
 * Task stdio as backpressured streams: an epoll event loop ({@link dev.berth.io.IoLoop}) that reads pipes only
 * while there is demand, writes stdin from a {@link org.reactivestreams.Publisher}, drains output after the
 * process exited with a timeout, and watches descriptors (pidfds) for readiness. No thread per stream. API.
 */
@NullMarked
package dev.berth.io;

import org.jspecify.annotations.NullMarked;
