package dev.berth.events;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Go's {@code strconv.Unquote} as containerd's filters adapt it: besides {@code "}, a string may be delimited by
 * {@code /} or {@code |}, and then only that delimiter may be escaped.
 */
final class GoQuote {
    private GoQuote() {
    }

    /**
     * The value of a quoted string (delimiters included), or null if it is not valid Go syntax.
     *
     * <p>Go strings are bytes: {@code \xHH} and octal escapes add one byte each, other characters their UTF-8
     * encoding, and the bytes are decoded as UTF-8 at the end. Bytes that are not valid UTF-8 become U+FFFD here,
     * where Go would keep them (such a value can equal no protobuf string, which is always valid UTF-8).
     */
    static @Nullable String unquote(String quoted) {
        int n = quoted.length();
        if (n < 2) {
            return null;
        }
        char quote = quoted.charAt(0);
        if (quote != quoted.charAt(n - 1) || quote != '"' && quote != '/' && quote != '|') {
            return null;
        }
        String s = quoted.substring(1, n - 1);
        if (s.indexOf('\n') >= 0) {
            return null;
        }
        if (s.indexOf('\\') < 0 && s.indexOf(quote) < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length() + 8);
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == quote) {
                return null;
            }
            if (c != '\\') {
                int cp = s.codePointAt(i);
                i += Character.charCount(cp);
                writeUtf8(out, cp);
                continue;
            }
            if (i + 1 >= s.length()) {
                return null;
            }
            char e = s.charAt(i + 1);
            i += 2;
            switch (e) {
                case 'a' -> out.write(0x07);
                case 'b' -> out.write('\b');
                case 'f' -> out.write('\f');
                case 'n' -> out.write('\n');
                case 'r' -> out.write('\r');
                case 't' -> out.write('\t');
                case 'v' -> out.write(0x0B);
                case '\\' -> out.write('\\');
                case 'x', 'u', 'U' -> {
                    int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + digits > s.length()) {
                        return null;
                    }
                    long v = 0;
                    for (int j = 0; j < digits; j++) {
                        int d = hexValue(s.charAt(i + j));
                        if (d < 0) {
                            return null;
                        }
                        v = v << 4 | d;
                    }
                    i += digits;
                    if (e == 'x') {
                        out.write((int) v);
                    } else if (v > Character.MAX_CODE_POINT) {
                        return null;
                    } else {
                        writeUtf8(out, (int) v);
                    }
                }
                case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                    if (i + 2 > s.length()) {
                        return null;
                    }
                    int v = e - '0';
                    for (int j = 0; j < 2; j++) {
                        int d = s.charAt(i + j) - '0';
                        if (d < 0 || d > 7) {
                            return null;
                        }
                        v = v << 3 | d;
                    }
                    i += 2;
                    if (v > 255) {
                        return null;
                    }
                    out.write(v);
                }
                case '"', '/', '|', '\'' -> {
                    if (e != quote) {
                        return null;
                    }
                    out.write(e);
                }
                default -> {
                    return null;
                }
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static int hexValue(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    // Go's utf8.EncodeRune: a surrogate code point is written as U+FFFD
    private static void writeUtf8(ByteArrayOutputStream out, int cp) {
        if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) {
            cp = 0xFFFD;
        }
        if (cp < 0x80) {
            out.write(cp);
        } else if (cp < 0x800) {
            out.write(0xC0 | cp >> 6);
            out.write(0x80 | cp & 0x3F);
        } else if (cp < 0x10000) {
            out.write(0xE0 | cp >> 12);
            out.write(0x80 | cp >> 6 & 0x3F);
            out.write(0x80 | cp & 0x3F);
        } else {
            out.write(0xF0 | cp >> 18);
            out.write(0x80 | cp >> 12 & 0x3F);
            out.write(0x80 | cp >> 6 & 0x3F);
            out.write(0x80 | cp & 0x3F);
        }
    }
}
