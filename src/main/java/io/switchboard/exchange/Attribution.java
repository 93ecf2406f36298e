package io.switchboard.exchange;

import org.jspecify.annotations.Nullable;

/** OpenRouter's app attribution: sent upstream as {@code HTTP-Referer}, {@code X-Title}, {@code X-OpenRouter-Categories}. */
public record Attribution(
        @Nullable String referer,
        @Nullable String title,
        @Nullable String categories) {

    public static final Attribution NONE = new Attribution(null, null, null);

    /**
     * A configured attribution value as it can be sent: stripped (a value pasted from a file often
     * ends with a line break), null when blank, and refused, naming {@code setting}, unless it is
     * printable ASCII. A line break in a header value failed every upstream call (502), and Netty
     * writes other characters as single bytes, mangling the name shown on OpenRouter.
     */
    public static @Nullable String configured(String setting, @Nullable String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String stripped = value.strip();
        if (!isHeaderSafe(stripped)) {
            throw new IllegalArgumentException(setting + " must hold printable ASCII characters only");
        }
        return stripped;
    }

    /** Printable ASCII only: what an upstream header value can carry unchanged, with no line break. */
    public static boolean isHeaderSafe(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    public boolean isEmpty() {
        return referer == null && title == null && categories == null;
    }
}
