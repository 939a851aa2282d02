package dev.berth.events;

import dev.berth.core.Envelope;

/**
 * A parsed subscription filter in containerd's language: entries OR-ed, the selectors of one entry AND-ed, on
 * {@code namespace}, {@code topic} and {@code event.<field>}. Parse once per subscription; testing an envelope
 * allocates nothing unless a selector looks inside the payload (or needs a general regular expression), and then
 * the payload is decoded once per event however many filters test it (see {@link EventPayload}). Instances are
 * immutable and thread-safe.
 *
 * <p>The language is containerd 1.6's, parse errors and quirks included:
 * <ul>
 *   <li>A selector is {@code fieldpath}, {@code fieldpath==value}, {@code fieldpath!=value} or
 *       {@code fieldpath~=regex}, and selectors are joined with {@code ,}. A field is {@code [A-Za-z0-9_]+} or a
 *       double-quoted string ({@code labels."app/name"}); a value is bare (no {@code ,} or whitespace, not
 *       starting with {@code "}, {@code /}, {@code |}, {@code .}, {@code =}, {@code !} or {@code ~}: write
 *       {@code topic~=".*exit"}, not {@code topic~=.*exit}) or double-quoted, and after {@code ~=} it may also be
 *       {@code /…/} or {@code |…|}. Quoted strings use Go escapes ({@code \n}, {@code \x31},
 *       <code>&#92;u00e9</code>, octal, the escaped delimiter). Single quotes are ordinary characters.
 *       Whitespace may precede a field, an operator or a value, but not follow one: {@code "id==web "} is an
 *       error.
 *   <li>{@code ==} needs the field present and equal (case-sensitive); {@code !=} and {@code ~=} test an absent
 *       field as "" (so {@code event.id!=x} matches an event without an id). {@code ~=} is not anchored.
 *   <li>{@code namespace} and {@code topic} are the envelope's; {@code event.<field>} reads the decoded payload
 *       by proto field name: strings (an empty string is absent, so {@code id==""} never matches), bools as
 *       {@code "true"}/{@code "false"}, nested messages ({@code event.io.stdout}) and label maps
 *       ({@code event.labels.<key>}, the rest of the path re-joined with "." as the key). Numbers, timestamps and
 *       repeated fields are never present, nor is any {@code event.} field of a payload whose type URL is not a
 *       registered {@code containerd.events.*} type. {@code timestamp} cannot be filtered.
 * </ul>
 *
 * <p>Deliberate differences from containerd:
 * <ul>
 *   <li>An invalid regular expression after {@code ~=} fails {@link #parse} with INVALID_ARGUMENT; containerd
 *       accepts the filter, logs, and the selector never matches.
 *   <li>Regular expressions are {@link java.util.regex.Pattern}s, not Go RE2. The common syntax agrees
 *       ({@code ^}, {@code (?i)}, classes, repetition), but Java also accepts backreferences and lookaround,
 *       rejects RE2's {@code (?P<name>…)}, and its {@code $} also matches before a final line terminator.
 *   <li>Error positions count UTF-16 characters of the entry where containerd counts UTF-8 bytes (the same for
 *       ASCII), and a parse error is INVALID_ARGUMENT (containerd's Events/Subscribe reports UNKNOWN).
 * </ul>
 */
public interface EventFilter {
    /** Matches every event. */
    EventFilter ALL = new EventFilter() {
        @Override
        public boolean test(Envelope envelope, EventPayload payload) {
            return true;
        }

        @Override
        public boolean matchesEverything() {
            return true;
        }

        @Override
        public String toString() {
            return "EventFilter[all]";
        }
    };

    /**
     * Parses filter entries. No entry, or any entry that is empty, matches every event.
     *
     * @throws dev.berth.core.BerthException INVALID_ARGUMENT for a parse error, with the entry (the bad character
     *     marked {@code >|x|<}, as containerd marks it), the 0-based position and the reason in the message, or for
     *     an invalid regular expression after {@code ~=} (the {@link java.util.regex.PatternSyntaxException} is the
     *     cause)
     */
    static EventFilter parse(String... filters) {
        return FilterParser.parse(filters);
    }

    /** Whether {@code envelope} matches, decoding its payload only if a selector needs it. */
    default boolean test(Envelope envelope) {
        return test(envelope, new EventPayload(envelope));
    }

    /** Whether {@code envelope} matches, using {@code payload} (the same envelope's lazily decoded payload). */
    boolean test(Envelope envelope, EventPayload payload);

    /** Whether this filter matches every event, so testing it can be skipped. */
    boolean matchesEverything();
}
