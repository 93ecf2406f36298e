package io.switchboard.usage;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The usage ledger and its helpers, {@code gateway.usage.*}.
 *
 * @param enabled whether requests are recorded at all
 * @param queueCapacity records held in memory at most; past it a record is counted as lost
 * @param spillThreshold queued records past which the writer moves records to the spill file while
 *     the database is failing
 * @param batchSize rows written in one statement; a full batch is written at once
 * @param flushInterval the longest a record waits in the queue when batches are not full
 * @param retryBackoff first wait after a failed write, doubled up to {@code retryBackoffMax}
 * @param retryBackoffMax longest wait between two write attempts
 * @param spillFile the local append-only file that keeps records the database could not take yet
 * @param settlementDelay wait before asking the upstream for a generation's final accounting
 * @param settlementAttempts look-ups tried before the estimate is kept
 * @param settleProviders the providers that answer OpenRouter's {@code GET /generation?id=} look-up
 * @param pricingRefresh how often the upstreams' {@code /models} prices are read again
 * @param fetchPricing whether to read the upstreams' {@code /models} prices at all
 */
@ConfigurationProperties("gateway.usage")
public record UsageProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("20000") int queueCapacity,
        @DefaultValue("5000") int spillThreshold,
        @DefaultValue("500") int batchSize,
        @DefaultValue("1s") Duration flushInterval,
        @DefaultValue("200ms") Duration retryBackoff,
        @DefaultValue("10s") Duration retryBackoffMax,
        @DefaultValue("data/usage-spill.jsonl") Path spillFile,
        @DefaultValue("3s") Duration settlementDelay,
        @DefaultValue("4") int settlementAttempts,
        @DefaultValue("openrouter") List<String> settleProviders,
        @DefaultValue("1h") Duration pricingRefresh,
        @DefaultValue("true") boolean fetchPricing) {}
