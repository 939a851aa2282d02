package dev.berth.events;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.jspecify.annotations.Nullable;

/**
 * The regular expression of a {@code ~=} selector, found anywhere in the value (not anchored), as Go's
 * {@code regexp.MatchString} does. The common shapes {@code literal} and {@code ^literal} are answered with
 * {@code contains}/{@code startsWith}, so that {@code topic~=^/tasks/} allocates no {@link java.util.regex.Matcher}.
 */
final class FilterRegex {
    private final Pattern pattern;
    private final @Nullable String literal;
    private final boolean anchored;

    private FilterRegex(Pattern pattern, @Nullable String literal, boolean anchored) {
        this.pattern = pattern;
        this.literal = literal;
        this.anchored = anchored;
    }

    /** Compiles {@code regex} with java.util.regex; throws its {@link PatternSyntaxException} if invalid. */
    static FilterRegex compile(String regex) {
        Pattern pattern = Pattern.compile(regex);
        boolean anchored = regex.startsWith("^");
        String rest = anchored ? regex.substring(1) : regex;
        return new FilterRegex(pattern, isLiteral(rest) ? rest : null, anchored);
    }

    boolean find(String value) {
        if (literal != null) {
            return anchored ? value.startsWith(literal) : value.contains(literal);
        }
        return pattern.matcher(value).find();
    }

    // Characters that stand for themselves outside a character class in both RE2 and java.util.regex.
    private static boolean isLiteral(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || "/_-:@=,!%~'\"<>#&; ".indexOf(c) >= 0;
            if (!plain) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return pattern.pattern();
    }
}
