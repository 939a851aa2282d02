package dev.berth.core.os;

/**
 * The two descriptors of a pipe.
 *
 * @param readFd the read end
 * @param writeFd the write end
 */
public record Pipe(int readFd, int writeFd) {
}
