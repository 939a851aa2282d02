package dev.berth.events;

import dev.berth.core.Errors;
import dev.berth.core.Identifiers;

/** containerd's topic rules: a leading {@code /}, then {@code /}-separated parts that are each an identifier. */
public final class Topics {
    private Topics() {
    }

    /**
     * Returns {@code topic} if valid.
     *
     * @throws dev.berth.core.BerthException INVALID_ARGUMENT for an empty topic, one without a leading slash, the
     *     topic {@code /}, or a part that is not an identifier
     */
    public static String validate(String topic) {
        if (topic == null || topic.isEmpty()) {
            throw Errors.invalidArgument("topic must not be empty");
        }
        if (topic.charAt(0) != '/') {
            throw Errors.invalidArgument("topic \"%s\" must start with '/'", topic);
        }
        if (topic.length() == 1) {
            throw Errors.invalidArgument("topic \"/\" names nothing");
        }
        for (String part : topic.substring(1).split("/", -1)) {
            if (!Identifiers.isValid(part)) {
                throw Errors.invalidArgument("topic \"%s\": part \"%s\" is not a valid identifier", topic, part);
            }
        }
        return topic;
    }
}
