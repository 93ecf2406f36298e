package io.switchboard.ratelimit;

import io.switchboard.exchange.LimitSettings;
import java.math.BigDecimal;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.Assert;

/**
 * Limits per key, {@code gateway.ratelimit.*}.
 *
 * @param enabled whether the limit and budget filters run at all
 * @param defaults limits for keys that set none of their own (none: unlimited)
 * @param redisUrl shared buckets for several replicas, e.g. {@code redis://127.0.0.1:6379}; none: in memory
 * @param commandTimeout the longest a Redis command may take before the fall-back applies
 * @param failMode what limits do while Redis fails: {@code local} (this replica's own buckets, each
 *     limit divided by {@code replicas}), {@code open} (no limit) or {@code closed} (refuse)
 * @param replicas how many gateway replicas share the limits, for the {@code local} fall-back
 * @param completionEstimate completion tokens reserved for a request without {@code max_tokens}
 *     (tokens per minute); the real count replaces it when the request ends
 * @param budgetCompletionCap completion tokens of the worst case a budget reserves when a request
 *     sets no {@code max_tokens}
 * @param keyPrefix prefix of every Redis key
 */
@ConfigurationProperties("gateway.ratelimit")
public record RateLimitProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue Defaults defaults,
        @Nullable String redisUrl,
        @DefaultValue("250ms") Duration commandTimeout,
        @DefaultValue("local") FailMode failMode,
        @DefaultValue("1") int replicas,
        @DefaultValue("1024") long completionEstimate,
        @DefaultValue("4096") long budgetCompletionCap,
        @DefaultValue("switchboard:") String keyPrefix) {

    /** Refuses at start a Redis command timeout of 0, which every command lost: fall-back for good. */
    public RateLimitProperties {
        Assert.isTrue(commandTimeout.compareTo(Duration.ZERO) > 0, "command-timeout must be more than 0");
    }

    /**
     * Limits for keys that set none; each left out means unlimited.
     *
     * @param rpm requests per minute
     * @param tpm tokens per minute (prompt estimate reserved, reconciled with the real usage)
     * @param maxConcurrency requests in flight at once
     * @param budgetUsd spend limit in USD (402 once spent)
     */
    public record Defaults(
            @Nullable Long rpm,
            @Nullable Long tpm,
            @Nullable Integer maxConcurrency,
            @Nullable BigDecimal budgetUsd) {

        /** Negative limits are refused at start ({@link LimitSettings}). */
        public Defaults {
            LimitSettings.refuseNegative("gateway.ratelimit.defaults.", rpm, tpm, maxConcurrency, budgetUsd);
        }
    }

    public enum FailMode {
        LOCAL,
        OPEN,
        CLOSED
    }
}
