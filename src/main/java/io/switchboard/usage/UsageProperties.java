package io.switchboard.usage;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.Assert;
import org.springframework.util.unit.DataSize;

/**
 * The usage ledger and its helpers, {@code gateway.usage.*}.
 *
 * @param enabled whether requests are recorded at all
 * @param queueCapacity records held in memory at most; past it a record is counted as lost
 * @param spillThreshold queued records past which the writer moves records to the spill file while
 *     the database is failing or takes rows more slowly than they come
 * @param batchSize rows written in one statement and one transaction; a full batch is written at once.
 *     Small by default: an open transaction's rows and undo log are what the collector copies when it
 *     stops the gateway mid-batch, so larger batches make longer pauses (docs/benchmarks.md)
 * @param flushInterval the longest a record waits in the queue when batches are not full
 * @param retryBackoff first wait after a failed write, doubled up to {@code retryBackoffMax}
 * @param retryBackoffMax longest wait between two write attempts
 * @param spillFile the local append-only file that keeps records the database could not take yet; by
 *     default {@code usage-spill.jsonl} under {@code gateway.storage.path}, beside the crash journal
 * @param settlementDelay wait before asking the upstream for a generation's final accounting
 * @param settlementAttempts look-ups tried before the estimate is kept: 10 over about six minutes with
 *     the default delay (the waits double from the delay up to 20 times it), as a generation still
 *     running when the client left is not found until it ends
 * @param settlementResumeWindow how far back a start looks for estimated rows whose settlement an
 *     earlier run did not finish (0 turns the resume off)
 * @param settleProviders the providers that answer OpenRouter's {@code GET /generation?id=} look-up
 * @param pricingRefresh how often the upstreams' {@code /models} prices are read again
 * @param fetchPricing whether to read the upstreams' {@code /models} prices at all
 * @param journal the crash journal, {@code gateway.usage.journal.*}
 */
@ConfigurationProperties("gateway.usage")
public record UsageProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("20000") int queueCapacity,
        @DefaultValue("5000") int spillThreshold,
        @DefaultValue("100") int batchSize,
        @DefaultValue("1s") Duration flushInterval,
        @DefaultValue("200ms") Duration retryBackoff,
        @DefaultValue("10s") Duration retryBackoffMax,
        @Nullable Path spillFile,
        @DefaultValue("3s") Duration settlementDelay,
        @DefaultValue("10") int settlementAttempts,
        @DefaultValue("24h") Duration settlementResumeWindow,
        @DefaultValue("openrouter") List<String> settleProviders,
        @DefaultValue("1h") Duration pricingRefresh,
        @DefaultValue("true") boolean fetchPricing,
        @DefaultValue Journal journal) {

    /** Where the spill file is: as set, else {@code usage-spill.jsonl} under {@code storagePath}. */
    public Path spillFileUnder(Path storagePath) {
        return spillFile != null ? spillFile : storagePath.resolve("usage-spill.jsonl");
    }

    /** Refuses at start periods of 0, which made the ledger's writer or the price refresh spin on a core. */
    public UsageProperties {
        Assert.isTrue(flushInterval.compareTo(Duration.ZERO) > 0, "flush-interval must be more than 0");
        Assert.isTrue(retryBackoff.compareTo(Duration.ZERO) > 0, "retry-backoff must be more than 0");
        Assert.isTrue(
                pricingRefresh.compareTo(Duration.ZERO) > 0,
                "pricing-refresh must be more than 0 (fetch-pricing=false turns the price list off)");
    }

    /**
     * The crash journal: every admitted request and every ended record, appended to a local file so
     * that a process killed without a graceful shutdown loses no ledger row.
     *
     * @param enabled whether to keep the journal
     * @param path the journal file; by default {@code usage-journal.log} under {@code gateway.storage.path}
     * @param flushInterval the longest an ended record waits before it is appended (an admission is
     *     appended at once, by the request's own thread, before its upstream call)
     * @param fsync {@code always} (each group forced to disk before its requests go upstream: survives
     *     power loss), {@code interval} (forced at most every {@code fsyncInterval}) or {@code never}
     *     (left to the operating system); all three survive the process being killed
     * @param fsyncInterval how often {@code fsync=interval} forces the file
     * @param commitDelay how long after the ledger wrote a row the journal forgets it. None by default:
     *     PostgreSQL and every H2 file database the gateway opens (with no write delay) have a row in
     *     their files when its commit returns. Set it above the {@code WRITE_DELAY} your own H2 URL sets
     *     (in its {@code options} or after its path), if it sets one: H2 then writes commits to its file
     *     that much later
     * @param maxSize the file is replaced by one holding only its live entries once this much was
     *     appended to it (a file is created with room for its live entries and this much more)
     */
    public record Journal(
            @DefaultValue("true") boolean enabled,
            @Nullable Path path,
            @DefaultValue("10ms") Duration flushInterval,
            @DefaultValue("interval") Fsync fsync,
            @DefaultValue("1s") Duration fsyncInterval,
            @DefaultValue("0s") Duration commitDelay,
            @DefaultValue("8MB") DataSize maxSize) {}

    /** When the journal forces its file to disk. */
    public enum Fsync {
        ALWAYS,
        INTERVAL,
        NEVER
    }
}
