package io.switchboard.metrics;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A tag's values, admitted first come first served up to a bound; every later value reads
 * {@code other}. Values are also cut to a sane length: a tag value is never a client's essay.
 */
final class BoundedTagValues {

    static final String OTHER = "other";
    private static final int MAX_LENGTH = 100;

    private final int max;
    private final Set<String> admitted = ConcurrentHashMap.newKeySet();

    BoundedTagValues(int max) {
        this.max = max;
    }

    /** {@code value} if already admitted, else {@code other}: for values that must not take a place. */
    String known(String value) {
        if (value.isEmpty()) {
            return "none";
        }
        return admitted.contains(value) ? value : OTHER;
    }

    String tag(String value) {
        if (value.isEmpty()) {
            return "none";
        }
        if (admitted.contains(value)) {
            return value;
        }
        if (value.length() > MAX_LENGTH || admitted.size() >= max) {
            return OTHER;
        }
        admitted.add(value);
        return value;
    }
}
