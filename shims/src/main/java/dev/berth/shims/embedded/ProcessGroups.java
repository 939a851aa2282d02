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

    /** A live process: pid and command name. */
    record Member(int pid, String command) {
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
                            stat.substring(open + 1, close)));
                }
            }
        } catch (IOException e) {
            throw dev.berth.core.Errors.wrap(e, "list the processes of group %d", pgid);
        }
        members.sort((a, b) -> Integer.compare(a.pid(), b.pid()));
        return members;
    }

    private static boolean isNumeric(String s) {
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
    }
}
