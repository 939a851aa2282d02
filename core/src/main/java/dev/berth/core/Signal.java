package dev.berth.core;

import java.util.Locale;
import java.util.Map;

/**
 * A Linux signal number with its conventional name. Accepts any number from 1 to 64 (real-time signals included);
 * the common ones have constants.
 *
 * @param number the signal number, 1-64
 */
public record Signal(int number) {
    public static final Signal HUP = new Signal(1);
    public static final Signal INT = new Signal(2);
    public static final Signal QUIT = new Signal(3);
    public static final Signal KILL = new Signal(9);
    public static final Signal USR1 = new Signal(10);
    public static final Signal USR2 = new Signal(12);
    public static final Signal PIPE = new Signal(13);
    public static final Signal TERM = new Signal(15);
    public static final Signal CONT = new Signal(18);
    public static final Signal STOP = new Signal(19);

    private static final String[] NAMES = {null, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL",
        "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
        "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS"};
    private static final Map<String, Integer> ALIASES = Map.of("IOT", 6, "POLL", 29, "CLD", 17);

    public Signal {
        if (number < 1 || number > 64) {
            throw Errors.invalidArgument("signal %d is outside 1-64", number);
        }
    }

    /** The signal with this number. @throws BerthException INVALID_ARGUMENT outside 1-64 */
    public static Signal of(int number) {
        return new Signal(number);
    }

    /**
     * Parses {@code "TERM"}, {@code "SIGTERM"}, {@code "sigterm"} or {@code "15"}.
     *
     * @throws BerthException INVALID_ARGUMENT for an unknown name or a number outside 1-64
     */
    public static Signal parse(String text) {
        String s = text == null ? "" : text.trim().toUpperCase(Locale.ROOT);
        if (!s.isEmpty() && s.chars().allMatch(Character::isDigit) && s.length() < 4) {
            return of(Integer.parseInt(s));
        }
        String name = s.startsWith("SIG") ? s.substring(3) : s;
        for (int i = 1; i < NAMES.length; i++) {
            if (NAMES[i].equals(name)) {
                return of(i);
            }
        }
        Integer alias = ALIASES.get(name);
        if (alias != null) {
            return of(alias);
        }
        throw Errors.invalidArgument("unknown signal \"%s\"", text);
    }

    /**
     * The name without the {@code SIG} prefix ({@code "TERM"}), or {@code "RTMIN+n"} for real-time signals. glibc
     * reserves 32 and 33 below its SIGRTMIN of 34; they are {@code "RTMIN-2"} and {@code "RTMIN-1"}.
     */
    public String name() {
        if (number < NAMES.length) {
            return NAMES[number];
        }
        return number < 34 ? "RTMIN-" + (34 - number) : "RTMIN+" + (number - 34);
    }

    @Override
    public String toString() {
        return "SIG" + name();
    }
}
