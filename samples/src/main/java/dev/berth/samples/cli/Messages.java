package dev.berth.samples.cli;

import org.jspecify.annotations.Nullable;

/** The text of a failure as the command line prints it. */
final class Messages {
    private Messages() {
    }

    /** The failure's message, else its type; "unknown error" for none. */
    static String of(@Nullable Throwable e) {
        if (e == null) {
            return "unknown error";
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
