package io.switchboard.exchange;

import org.jspecify.annotations.Nullable;

/** OpenRouter's app attribution: sent upstream as {@code HTTP-Referer}, {@code X-Title}, {@code X-OpenRouter-Categories}. */
public record Attribution(
        @Nullable String referer,
        @Nullable String title,
        @Nullable String categories) {

    public static final Attribution NONE = new Attribution(null, null, null);

    public boolean isEmpty() {
        return referer == null && title == null && categories == null;
    }
}
