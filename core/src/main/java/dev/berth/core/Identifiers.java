package dev.berth.core;

import java.util.regex.Pattern;

/**
 * containerd's identifier rules, used for task ids, exec ids and namespaces: one or more alphanumeric runs joined
 * by single {@code .}, {@code _} or {@code -}, at most 76 characters. An id that passes here is also accepted by a
 * containerd daemon and is safe as a single path segment.
 */
public final class Identifiers {
    /** The longest identifier containerd accepts. */
    public static final int MAX_LENGTH = 76;

    private static final Pattern PATTERN = Pattern.compile("^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$");

    private Identifiers() {
    }

    /** Whether {@code s} is a valid identifier. */
    public static boolean isValid(String s) {
        return s != null && !s.isEmpty() && s.length() <= MAX_LENGTH && PATTERN.matcher(s).matches();
    }

    /**
     * Returns {@code s} if it is a valid identifier.
     *
     * @param what what the identifier names, for the message ("task id", "namespace")
     * @throws BerthException INVALID_ARGUMENT, saying which rule {@code s} breaks
     */
    public static String validate(String what, String s) {
        if (s == null || s.isEmpty()) {
            throw Errors.invalidArgument("%s must not be empty", what);
        }
        if (s.length() > MAX_LENGTH) {
            throw Errors.invalidArgument("%s \"%s\" is %d characters long, more than the limit of %d",
                    what, s, s.length(), MAX_LENGTH);
        }
        if (!PATTERN.matcher(s).matches()) {
            throw Errors.invalidArgument("%s \"%s\" must match %s", what, s, PATTERN.pattern());
        }
        return s;
    }
}
