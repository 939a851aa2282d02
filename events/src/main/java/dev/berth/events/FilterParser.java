package dev.berth.events;

import dev.berth.core.BerthException;
import dev.berth.core.ErrorKind;
import dev.berth.core.Errors;
import dev.berth.events.FilterScanner.Token;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.PatternSyntaxException;
import org.jspecify.annotations.Nullable;

/**
 * Parses containerd's filter language, a port of containerd 1.6's {@code filters/parser.go}, so that the same
 * entries are accepted, rejected at the same position and for the same reason.
 *
 * <pre>
 * entry     := selector ( "," selector )*
 * selector  := fieldpath ( op value )?
 * fieldpath := field ( "." field )*
 * field     := [A-Za-z0-9_]+ | dq-string
 * op        := "==" | "!=" | "~="
 * value     := bare | dq-string | slash-string and pipe-string (after "~=" only)
 * </pre>
 *
 * <p>All entries are parsed before any regular expression is compiled, so a syntax error anywhere is reported
 * before an invalid regex (which containerd never reports at all).
 */
final class FilterParser {
    private final String input;
    private final FilterScanner scanner;

    private FilterParser(String input) {
        this.input = input;
        this.scanner = new FilterScanner(input);
    }

    static EventFilter parse(String... filters) {
        Objects.requireNonNull(filters, "filters");
        List<List<ParsedSelector>> entries = new ArrayList<>(filters.length);
        List<String> source = new ArrayList<>(filters.length);
        boolean matchesEverything = filters.length == 0;
        for (String filter : filters) {
            Objects.requireNonNull(filter, "filters contains null");
            if (filter.isEmpty()) {
                matchesEverything = true; // containerd still parses, and rejects, the other entries
            } else {
                entries.add(new FilterParser(filter).entry());
                source.add(filter);
            }
        }
        Selector[][] compiled = new Selector[entries.size()][];
        for (int i = 0; i < compiled.length; i++) {
            compiled[i] = entries.get(i).stream().map(FilterParser::compile).toArray(Selector[]::new);
        }
        return matchesEverything ? EventFilter.ALL : new DefaultEventFilter(compiled, source);
    }

    /** A selector as written: the field path unquoted, the value unquoted, and where the value starts. */
    private record ParsedSelector(String entry, List<String> path, Operator operator, String value, int valuePos) {
    }

    private List<ParsedSelector> entry() {
        List<ParsedSelector> selectors = new ArrayList<>();
        selectors.add(selector());
        while (true) {
            int next = scanner.peek();
            if (next == FilterScanner.EOF) {
                return selectors;
            }
            if (next != ',') {
                // peek does not skip whitespace, so "id==a ,b" and "id==a " fail here
                throw error(scanner.ppos(), "unexpected input: " + display(next));
            }
            Token separator = scanner.scan();
            if (separator.kind() != FilterScanner.SEPARATOR) {
                throw error(separator.pos(), "expected a separator");
            }
            selectors.add(selector());
        }
    }

    private ParsedSelector selector() {
        List<String> path = fieldpath();
        int next = scanner.peek();
        if (next == ',' || next == FilterScanner.EOF) {
            return new ParsedSelector(input, path, Operator.PRESENT, "", -1);
        }
        Operator operator = operator();
        Token value = scanner.scan();
        String text = value(value, operator == Operator.MATCHES);
        return new ParsedSelector(input, path, operator, text, value.pos());
    }

    private List<String> fieldpath() {
        List<String> path = new ArrayList<>();
        path.add(field());
        while (scanner.peek() == '.') {
            Token separator = scanner.scan();
            if (separator.kind() != FilterScanner.SEPARATOR) {
                throw error(separator.pos(), "expected a field separator (`.`)");
            }
            path.add(field());
        }
        return path;
    }

    private String field() {
        Token token = scanner.scan();
        return switch (token.kind()) {
            case FilterScanner.FIELD -> token.text();
            case FilterScanner.QUOTED -> unquote(token, false);
            case FilterScanner.ILLEGAL -> throw error(token.pos(), scanner.error());
            default -> throw error(token.pos(), "expected field or quoted");
        };
    }

    private Operator operator() {
        Token token = scanner.scan();
        if (token.kind() == FilterScanner.OPERATOR) {
            return switch (token.text()) {
                case "==" -> Operator.EQUAL;
                case "!=" -> Operator.NOT_EQUAL;
                case "~=" -> Operator.MATCHES;
                default -> throw error(token.pos(), "unsupported operator \"" + token.text() + "\"");
            };
        }
        if (token.kind() == FilterScanner.ILLEGAL) {
            throw error(token.pos(), scanner.error()); // e.g. the "/" of labels.app/name opens a quote
        }
        throw error(token.pos(), "expected an operator (\"==\"|\"!=\"|\"~=\")");
    }

    private String value(Token token, boolean allowAltQuotes) {
        return switch (token.kind()) {
            case FilterScanner.VALUE, FilterScanner.FIELD -> token.text();
            case FilterScanner.QUOTED -> unquote(token, allowAltQuotes);
            case FilterScanner.ILLEGAL -> throw error(token.pos(), scanner.error());
            default -> throw error(token.pos(), "expected value or quoted");
        };
    }

    private String unquote(Token token, boolean allowAltQuotes) {
        if (!allowAltQuotes && token.text().charAt(0) != '"') {
            throw error(token.pos(), "invalid quote encountered");
        }
        String value = GoQuote.unquote(token.text());
        if (value == null) {
            throw error(token.pos(), "unquoting failed: quote syntax error");
        }
        return value;
    }

    private static Selector compile(ParsedSelector parsed) {
        FilterRegex regex = null;
        if (parsed.operator() == Operator.MATCHES) {
            try {
                regex = FilterRegex.compile(parsed.value());
            } catch (PatternSyntaxException e) {
                // Deliberate difference: containerd accepts the filter and the selector never matches.
                throw error(parsed.entry(), parsed.valuePos(), e,
                        "invalid regular expression: " + e.getDescription());
            }
        }
        return new Selector(EventField.of(parsed.path()), parsed.operator(), parsed.value(), regex);
    }

    private BerthException error(int pos, String reason) {
        return error(input, pos, null, reason);
    }

    /** An INVALID_ARGUMENT naming the entry with the bad character marked as containerd marks it. */
    private static BerthException error(String entry, int pos, @Nullable Throwable cause, String reason) {
        return Errors.of(ErrorKind.INVALID_ARGUMENT, cause, "filters: parse error at position %d: %s: %s",
                pos, marked(entry, pos), reason);
    }

    private static String marked(String entry, int pos) {
        if (pos >= entry.length()) {
            return "[" + entry + "]";
        }
        int end = pos + Character.charCount(entry.codePointAt(pos));
        return "[" + entry.substring(0, pos) + " >|" + entry.substring(pos, end) + "|< " + entry.substring(end) + "]";
    }

    // Go's string(rune): an illegal character (a negative token) prints as U+FFFD
    private static String display(int ch) {
        return ch < 0 ? "\uFFFD" : Character.toString(ch);
    }
}
