package dev.berth.events;

import dev.berth.core.Envelope;
import org.jspecify.annotations.Nullable;

/** One {@code fieldpath[op value]} of a filter entry, with its field resolved and its regex compiled. */
final class Selector {
    private final EventField field;
    private final Operator operator;
    private final String value;
    private final @Nullable FilterRegex regex;

    Selector(EventField field, Operator operator, String value, @Nullable FilterRegex regex) {
        this.field = field;
        this.operator = operator;
        this.value = value;
        this.regex = regex;
    }

    boolean test(Envelope envelope, EventPayload payload) {
        String actual = field.read(envelope, payload);
        return switch (operator) {
            case PRESENT -> actual != null;
            case EQUAL -> actual != null && actual.equals(value);
            case NOT_EQUAL -> !value.equals(actual == null ? "" : actual);
            case MATCHES -> regex != null && regex.find(actual == null ? "" : actual);
        };
    }

    @Override
    public String toString() {
        return operator == Operator.PRESENT ? field.toString() : field + operator.symbol() + value;
    }
}
