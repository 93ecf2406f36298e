package io.switchboard.keys;

import io.switchboard.exchange.LimitSettings;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.context.properties.bind.Name;
import org.springframework.util.Assert;

/**
 * {@code gateway.keys.*}: how keys are hashed and cached, and the keys declared in configuration.
 *
 * @param pepper server-side secret mixed into every key hash (HMAC-SHA256); none: plain SHA-256.
 *     Changing it invalidates every stored key.
 * @param cache the key cache
 * @param lookupTimeout longest wait for the database on a key not in the cache (503 past it)
 * @param lastUsedFlush how often {@code last_used_at} is written, one UPDATE per batch
 * @param staticKeys {@code gateway.keys.static[i]}: keys managed in configuration (git), not in the database
 * @param redisTimeout command timeout of the Redis connection that announces key changes (when
 *     {@code gateway.ratelimit.redis-url} is set)
 * @param modelListTtl how long the upstream's model list is kept before it is fetched again
 */
@ConfigurationProperties("gateway.keys")
public record KeysProperties(
        @Nullable String pepper,
        @DefaultValue Cache cache,
        @DefaultValue("2s") Duration lookupTimeout,
        @DefaultValue("5s") Duration lastUsedFlush,
        @Name("static") @DefaultValue List<StaticKey> staticKeys,
        @DefaultValue("1s") Duration redisTimeout,
        @DefaultValue("5m") Duration modelListTtl) {

    /** Refuses at start what would fail later: a lookup timeout under 1 ms answered every database key 503. */
    public KeysProperties {
        Assert.isTrue(lookupTimeout.toMillis() >= 1, "lookup-timeout must be at least 1ms");
        Assert.isTrue(
                lastUsedFlush.compareTo(Duration.ZERO) > 0, "last-used-flush must be more than 0 (0 is a busy loop)");
        // Caffeine refuses a duration of 0 with a message naming neither setting.
        Assert.isTrue(modelListTtl.compareTo(Duration.ZERO) > 0, "model-list-ttl must be more than 0");
    }

    /**
     * @param refresh age after which a cached key is re-read from the database in the background
     *     (the answer is served from the cache meanwhile): without Redis, the longest time an edit
     *     or revocation made on another replica goes unseen here
     * @param maxStaleness age after which a cached key is dropped; while the database is down,
     *     verified keys keep working until then
     * @param maximumSize the most keys (found or not found) held
     */
    public record Cache(
            @DefaultValue("15s") Duration refresh,
            @DefaultValue("15m") Duration maxStaleness,
            @DefaultValue("100000") long maximumSize) {

        /** Caffeine refuses a duration of 0 with a message naming neither setting. */
        public Cache {
            Assert.isTrue(refresh.compareTo(Duration.ZERO) > 0, "cache.refresh must be more than 0");
            Assert.isTrue(maxStaleness.compareTo(Duration.ZERO) > 0, "cache.max-staleness must be more than 0");
        }
    }

    /**
     * A key declared in configuration. Give either {@code secret} (e.g. {@code ${TEAM_A_KEY}} from the
     * environment) or {@code hash} (the hex SHA-256 of the secret, or its HMAC when a pepper is set).
     */
    public record StaticKey(
            String name,
            @Nullable String secret,
            @Nullable String hash,
            @DefaultValue List<String> models,
            @Nullable Long rpm,
            @Nullable Long tpm,
            @Nullable Integer maxConcurrency,
            @Nullable BigDecimal budgetUsd,
            @Nullable String referer,
            @Nullable String title,
            @Nullable String categories) {

        /** Negative limits are refused at start, as for the defaults ({@link LimitSettings}). */
        public StaticKey {
            LimitSettings.refuseNegative(
                    "gateway.keys.static key '" + name + "': ", rpm, tpm, maxConcurrency, budgetUsd);
        }

        /** Hides the secret from configuration dumps. */
        @Override
        public String toString() {
            return "StaticKey[" + name + ", models=" + models + "]";
        }
    }

    @Override
    public String toString() {
        return "KeysProperties[pepper=" + (pepper == null ? "none" : "*****") + ", cache=" + cache + ", staticKeys="
                + staticKeys + "]";
    }
}
