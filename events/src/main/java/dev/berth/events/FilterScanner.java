package dev.berth.events;

/**
 * The lexer of containerd's filter language, a port of containerd 1.6's {@code filters/scanner.go}. Its quirks are
 * what make the language: whitespace is skipped only before a token, {@code "}, {@code /} and {@code |} always start
 * a quoted string (the parser rejects the last two outside a regular expression), a bare value may be scanned only
 * right after an operator, and {@code ,} and {@code .} are both separators.
 *
 * <p>Positions are indices into the Java string (UTF-16 units); containerd counts UTF-8 bytes. They agree on ASCII.
 * One scanner reads one entry; it is not thread-safe.
 */
final class FilterScanner {
    // Token kinds: negative, so that any other token is the code point that was read.
    static final int EOF = -1;
    static final int QUOTED = -2;
    static final int VALUE = -3;
    static final int FIELD = -4;
    static final int SEPARATOR = -5;
    static final int OPERATOR = -6;
    static final int ILLEGAL = -7;

    /** One token: where it starts, its kind (or the unexpected code point) and its text. */
    record Token(int pos, int kind, String text) {
    }

    private final String input;
    private int pos; // start of the code point last read
    private int ppos; // end of the code point last read
    private boolean value; // the last token was an operator, so a bare value may follow
    private String error = "";
    private boolean escapeLegal;

    FilterScanner(String input) {
        this.input = input;
    }

    /** The end of the last code point read: where the next token starts. */
    int ppos() {
        return ppos;
    }

    /** The first error the scanner met, or "" (explains an {@link #ILLEGAL} token). */
    String error() {
        return error;
    }

    /** The next code point without consuming it, or {@link #EOF} or {@link #ILLEGAL}. */
    int peek() {
        int savedPos = pos;
        int savedPpos = ppos;
        int ch = next();
        pos = savedPos;
        ppos = savedPpos;
        return ch;
    }

    Token scan() {
        int ch = next();
        int start = pos;
        while (ch >= 0 && isSpace(ch)) {
            ch = next();
            start = pos;
        }
        if (ch < 0) {
            return new Token(pos, ch, "");
        }
        if (isQuote(ch)) {
            int kind = scanQuoted(ch) ? QUOTED : ILLEGAL;
            return new Token(start, kind, input.substring(start, ppos));
        }
        if (ch == ',' || ch == '.') {
            value = false;
            return new Token(start, SEPARATOR, input.substring(start, ppos));
        }
        if (isOperator(ch)) {
            while (isOperator(peek())) {
                next();
            }
            value = true;
            return new Token(start, OPERATOR, input.substring(start, ppos));
        }
        if (value) {
            // the first character is not checked: only those that follow must be value characters
            while (isValueChar(peek())) {
                next();
            }
            value = false;
            return new Token(start, VALUE, input.substring(start, ppos));
        }
        if (isFieldChar(ch)) {
            while (isFieldChar(peek())) {
                next();
            }
            return new Token(start, FIELD, input.substring(start, ppos));
        }
        return new Token(pos, ch, "");
    }

    private int next() {
        if (pos >= input.length()) {
            return EOF;
        }
        pos = ppos;
        if (ppos >= input.length()) {
            return EOF;
        }
        int cp = input.codePointAt(ppos);
        ppos += Character.charCount(cp);
        // Go decodes UTF-8: a lone surrogate is invalid input, and so is U+FFFD, which Go cannot tell apart from a
        // decoding error
        if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE || cp == 0xFFFD) {
            error("rune error");
            return ILLEGAL;
        }
        if (cp == 0) {
            error("unexpected null");
            return ILLEGAL;
        }
        return cp;
    }

    private boolean scanQuoted(int quote) {
        boolean illegal = false;
        int ch = next();
        while (ch != quote) {
            if (ch == '\n' || ch < 0) {
                error("quoted literal not terminated");
                return false;
            }
            if (ch == '\\') {
                ch = scanEscape(quote);
                illegal |= !escapeLegal;
            } else {
                ch = next();
            }
        }
        return !illegal;
    }

    /** Reads an escape after its backslash, sets {@link #escapeLegal} and returns the code point after it. */
    private int scanEscape(int quote) {
        int ch = next();
        switch (ch) {
            case 'a', 'b', 'f', 'n', 'r', 't', 'v', '\\' -> {
                escapeLegal = true;
                return next();
            }
            case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                return scanDigits(ch, 8, 3);
            }
            case 'x' -> {
                return scanDigits(next(), 16, 2);
            }
            case 'u' -> {
                return scanDigits(next(), 16, 4);
            }
            case 'U' -> {
                return scanDigits(next(), 16, 8);
            }
            default -> {
                if (ch == quote) {
                    escapeLegal = true;
                    return next();
                }
                // the character after the backslash is left to be read as part of the string
                error("illegal escape sequence");
                escapeLegal = false;
                return ch;
            }
        }
    }

    private int scanDigits(int ch, int base, int n) {
        while (n > 0 && digitValue(ch) < base) {
            ch = next();
            n--;
        }
        escapeLegal = n == 0;
        if (n > 0) {
            error("illegal numeric escape sequence");
        }
        return ch;
    }

    private void error(String message) {
        if (error.isEmpty()) {
            error = message;
        }
    }

    private static int digitValue(int ch) {
        if (ch >= '0' && ch <= '9') {
            return ch - '0';
        }
        if (ch >= 'a' && ch <= 'f') {
            return ch - 'a' + 10;
        }
        if (ch >= 'A' && ch <= 'F') {
            return ch - 'A' + 10;
        }
        return 16;
    }

    static boolean isFieldChar(int ch) {
        return ch == '_' || ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9';
    }

    private static boolean isOperator(int ch) {
        return ch == '=' || ch == '!' || ch == '~';
    }

    private static boolean isQuote(int ch) {
        return ch == '"' || ch == '/' || ch == '|';
    }

    /** Go's {@code unicode.IsSpace}: the Latin-1 spaces, then the Unicode White_Space property. */
    static boolean isSpace(int ch) {
        if (ch <= 0xFF) {
            return ch >= '\t' && ch <= '\r' || ch == ' ' || ch == 0x85 || ch == 0xA0;
        }
        return Character.isSpaceChar(ch);
    }

    /** Go's {@code isValueRune}: not a comma, not a space, and a graphic character (letters, marks, numbers...). */
    private static boolean isValueChar(int ch) {
        if (ch < 0 || ch == ',' || isSpace(ch)) {
            return false;
        }
        return switch (Character.getType(ch)) {
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE,
                    Character.UNASSIGNED, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> false;
            default -> true;
        };
    }
}
