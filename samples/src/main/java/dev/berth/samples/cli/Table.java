package dev.berth.samples.cli;

import java.util.List;

/** Columns padded as Go's tabwriter pads {@code ctr}'s listings: each as wide as its widest cell, plus spaces. */
final class Table {
    private static final int MIN_WIDTH = 8;
    private static final int PADDING = 4;

    private Table() {
    }

    /** The rows as lines of text, each ending with a newline; the last column is not padded. */
    static String format(List<String[]> rows) {
        int columns = rows.stream().mapToInt(r -> r.length).max().orElse(0);
        int[] widths = new int[columns];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], Math.max(MIN_WIDTH, row[i].length() + PADDING));
            }
        }
        StringBuilder text = new StringBuilder();
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                text.append(row[i]);
                if (i < row.length - 1) {
                    text.append(" ".repeat(widths[i] - row[i].length()));
                }
            }
            text.append('\n');
        }
        return text.toString();
    }
}
