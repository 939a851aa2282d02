package dev.berth.core.oci;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** Defensive copies for the records of this package, which take {@code null} from Jackson for absent fields. */
final class Values {
    private Values() {
    }

    /** An immutable copy, empty for {@code null}. */
    static <T> List<T> list(@Nullable List<T> values) {
        return values == null ? List.of() : List.copyOf(values);
    }

    /** An immutable copy, empty for {@code null}. */
    static <K, V> Map<K, V> map(@Nullable Map<K, V> values) {
        return values == null ? Map.of() : Map.copyOf(values);
    }

    /**
     * An immutable copy of unmodelled fields that keeps their order and allows JSON {@code null} values, which
     * {@link Map#copyOf} rejects.
     */
    static Map<String, @Nullable Object> extensions(@Nullable Map<String, @Nullable Object> values) {
        return values == null || values.isEmpty()
                ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }
}
