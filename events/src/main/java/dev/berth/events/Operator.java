package dev.berth.events;

/** The operator of one selector. A selector without an operator tests that its field is present. */
enum Operator {
    /** No operator: the field is present. */
    PRESENT(""),
    /** {@code ==}: the field is present and equal to the value (case-sensitive). */
    EQUAL("=="),
    /** {@code !=}: the field differs from the value; an absent field counts as "". */
    NOT_EQUAL("!="),
    /** {@code ~=}: the regular expression is found anywhere in the field; an absent field counts as "". */
    MATCHES("~=");

    private final String symbol;

    Operator(String symbol) {
        this.symbol = symbol;
    }

    String symbol() {
        return symbol;
    }
}
