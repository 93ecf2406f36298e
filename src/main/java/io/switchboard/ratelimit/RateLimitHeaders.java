package io.switchboard.ratelimit;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;

/**
 * OpenAI's rate-limit headers: {@code x-ratelimit-limit-requests}, {@code -remaining-requests},
 * {@code -reset-requests} and the same for tokens; resets are durations such as {@code 1s},
 * {@code 6m0s} or {@code 250ms}, as OpenAI writes them.
 */
final class RateLimitHeaders {

    static final String LIMIT_REQUESTS = "x-ratelimit-limit-requests";
    static final String REMAINING_REQUESTS = "x-ratelimit-remaining-requests";
    static final String RESET_REQUESTS = "x-ratelimit-reset-requests";
    static final String LIMIT_TOKENS = "x-ratelimit-limit-tokens";
    static final String REMAINING_TOKENS = "x-ratelimit-remaining-tokens";
    static final String RESET_TOKENS = "x-ratelimit-reset-tokens";

    private RateLimitHeaders() {}

    static void write(
            HttpHeaders headers,
            KeyLimits limits,
            LimitStore.@Nullable Take requests,
            LimitStore.@Nullable Take tokens) {
        if (limits.rpm() != null && requests != null) {
            headers.set(LIMIT_REQUESTS, Long.toString(limits.rpm()));
            headers.set(REMAINING_REQUESTS, Long.toString(requests.remaining()));
            headers.set(RESET_REQUESTS, duration(requests.resetNanos()));
        }
        if (limits.tpm() != null && tokens != null) {
            headers.set(LIMIT_TOKENS, Long.toString(limits.tpm()));
            headers.set(REMAINING_TOKENS, Long.toString(tokens.remaining()));
            headers.set(RESET_TOKENS, duration(tokens.resetNanos()));
        }
    }

    /** Removes every {@code x-ratelimit-*} header (the upstream's, before the key's own are set). */
    static void removeAll(HttpHeaders headers) {
        List<String> names = null;
        for (String name : headers.headerNames()) {
            if (name.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
                if (names == null) {
                    names = new ArrayList<>(6);
                }
                names.add(name);
            }
        }
        if (names != null) {
            names.forEach(headers::remove);
        }
    }

    private static final String PREFIX = "x-ratelimit-";

    /** Whole seconds, rounded up and at least 1, for {@code Retry-After}. */
    static String retryAfter(long nanos) {
        return Long.toString(Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L));
    }

    static String duration(long nanos) {
        long millis = TimeUnit.NANOSECONDS.toMillis(Math.max(0, nanos));
        if (millis < 1000) {
            return millis + "ms";
        }
        long seconds = (millis + 999) / 1000;
        if (seconds < 60) {
            return seconds + "s";
        }
        long minutes = seconds / 60;
        if (minutes < 60) {
            return minutes + "m" + (seconds % 60) + "s";
        }
        return (minutes / 60) + "h" + (minutes % 60) + "m" + (seconds % 60) + "s";
    }
}
