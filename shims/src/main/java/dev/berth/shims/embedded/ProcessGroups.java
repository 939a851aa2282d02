package dev.berth.shims.embedded;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Lists the live members of a process group from {@code /proc}. Blocks on file reads. */
final class ProcessGroups {
    private static final Path PROC = Path.of("/proc");

    private ProcessGroups() {
    }

    /** A live process: pid, command name and the one-letter state of {@code /proc/PID/stat}. */
    record Member(int pid, String command, String state) {
        /** Stopped by a signal ({@code T}) or by tracing ({@code t}). */
        boolean stopped() {
            return "T".equals(state) || "t".equals(state);
        }
    }

    /** The non-zombie members of process group {@code pgid}, in pid order. */
    static List<Member> members(int pgid) {
        List<Member> members = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC, p -> isNumeric(p.getFileName().toString()))) {
            for (Path dir : dirs) {
                String stat;
                try {
                    stat = Files.readString(dir.resolve("stat"), StandardCharsets.UTF_8);
                } catch (IOException gone) {
                    continue; // exited while we looked
                }
                // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after the last ')'.
                int open = stat.indexOf('(');
                int close = stat.lastIndexOf(')');
                if (open < 0 || close < 0) {
                    continue;
                }
                String[] rest = stat.substring(close + 2).split(" ", 4);
                if (rest.length >= 3 && !"Z".equals(rest[0]) && Integer.parseInt(rest[2]) == pgid) {
                    members.add(new Member(Integer.parseInt(stat.substring(0, open).trim()),
                            stat.substring(open + 1, close), rest[0]));
                }
            }
        } catch (IOException e) {
            throw dev.berth.core.Errors.wrap(e, "list the processes of group %d", pgid);
        }
        members.sort((a, b) -> Integer.compare(a.pid(), b.pid()));
        return members;
    }

    /**
     * Waits until every member of {@code pgid} is stopped ({@code stopped == true}) or none is. Signals are
     * delivered asynchronously: {@code kill(2)} returns before the targets have acted on SIGSTOP or SIGCONT.
     * Bounded: gives up after {@code timeoutNanos}, returning false.
     */
    static boolean awaitAll(int pgid, boolean stopped, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            boolean done = members(pgid).stream().allMatch(m -> m.stopped() == stopped);
            if (done) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(200_000);
        }
    }

    private static boolean isNumeric(String s) {
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
    }
}
