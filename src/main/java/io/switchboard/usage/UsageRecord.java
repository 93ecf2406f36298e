package io.switchboard.usage;

import java.math.BigDecimal;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * One row of the usage ledger: what one request that reached the proxy cost and how it went.
 *
 * @param entryId the ledger's own unique id for the row (request ids may come from clients and repeat)
 * @param keyName the key's name at the time of the request, kept for reports after a rename
 * @param model the model sent upstream (after alias rewrite)
 * @param servedModel the model the upstream says answered, when it said
 * @param provider the gateway's provider name; {@code upstreamProvider} is the one OpenRouter routed to
 * @param generationId {@code X-Generation-Id} or the response's own id
 * @param status the HTTP status the client got, 0 when it left before any
 * @param estimated true when the token counts are the gateway's estimate, not the upstream's report
 * @param costUsd the upstream's reported cost, else one from the model's prices, else null
 * @param costSource {@code upstream}, {@code priced}, {@code settled} or {@code none}
 */
public record UsageRecord(
        String entryId,
        String requestId,
        String keyId,
        String keyName,
        String endpoint,
        String requestedModel,
        String model,
        @Nullable String servedModel,
        String provider,
        @Nullable String upstreamProvider,
        @Nullable String generationId,
        boolean stream,
        int status,
        UsageOutcome outcome,
        long promptTokens,
        long completionTokens,
        long totalTokens,
        long cachedTokens,
        long reasoningTokens,
        boolean estimated,
        @Nullable BigDecimal costUsd,
        String costSource,
        long latencyMs,
        @Nullable Long ttfbMs,
        @Nullable Long ttftMs,
        Instant createdAt) {

    /** Ten to the twelfth USD: the ledger's {@code cost_usd NUMERIC(24, 12)} holds less. */
    private static final BigDecimal COST_BOUND = BigDecimal.TEN.pow(12);

    /** The largest cost the ledger holds: just under {@link #COST_BOUND}. */
    private static final BigDecimal MAX_COST = COST_BOUND.subtract(BigDecimal.ONE.movePointLeft(12));

    /**
     * A cost the gateway priced itself, at most what the ledger holds: counts the upstream reports
     * times a price can be any size, and a row the ledger refuses stopped PostgreSQL's ledger (every
     * retry of its batch failed). So large a cost spends any budget either way.
     */
    static BigDecimal pricedCost(BigDecimal cost) {
        return cost.compareTo(MAX_COST) > 0 ? MAX_COST : cost;
    }

    /**
     * A cost an upstream reported, if the ledger can store it and it is one: null for a negative cost
     * or one of 10^12 USD or more. PostgreSQL refuses such a row, and a batch holding it failed
     * every retry (the ledger then stopped); a negative one would give a budget money back.
     */
    static @Nullable BigDecimal reportedCost(@Nullable BigDecimal cost) {
        return cost == null || cost.signum() < 0 || cost.abs().compareTo(COST_BOUND) >= 0 ? null : cost;
    }

    /**
     * A time-ordered (version 7, RFC 9562) UUID: the current Unix time in milliseconds, then random
     * bits from ThreadLocalRandom, which unlike {@code UUID.randomUUID()} never waits on the system's
     * entropy source on an event loop. Time first, so that each new row lands at the end of the
     * {@code entry_id} unique index: a random (version 4) id put every insert on a random index page,
     * and the embedded database's writer spent most of its time reading and rewriting those pages
     * (see docs/benchmarks.md). Java 17 has no version-7 generator; a library for these three lines
     * was not worth the dependency.
     */
    public static String newEntryId() {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        long high = (System.currentTimeMillis() << 16) | 0x7000L | (random.nextLong() & 0x0FFFL);
        long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new java.util.UUID(high, low).toString();
    }

    /** Whether the numbers are still worth checking against the upstream's own accounting later. */
    public boolean needsSettlement() {
        return generationId != null && (estimated || outcome == UsageOutcome.CLIENT_CLOSED);
    }

    /** The same row with the upstream's final accounting. */
    public UsageRecord settled(long prompt, long completion, long cached, long reasoning, @Nullable BigDecimal cost) {
        return copy(
                generationId,
                prompt,
                completion,
                prompt + completion,
                cached,
                reasoning,
                false,
                cost,
                cost == null ? costSource : "settled");
    }

    /** The same row naming this generation (the crash journal learns it after the admission). */
    public UsageRecord withGeneration(@Nullable String generation) {
        return copy(
                generation,
                promptTokens,
                completionTokens,
                totalTokens,
                cachedTokens,
                reasoningTokens,
                estimated,
                costUsd,
                costSource);
    }

    /** The one place a row is copied with changes: what can change after a row was made. */
    private UsageRecord copy(
            @Nullable String generation,
            long prompt,
            long completion,
            long total,
            long cached,
            long reasoning,
            boolean estimate,
            @Nullable BigDecimal cost,
            String source) {
        return new UsageRecord(
                entryId,
                requestId,
                keyId,
                keyName,
                endpoint,
                requestedModel,
                model,
                servedModel,
                provider,
                upstreamProvider,
                generation,
                stream,
                status,
                outcome,
                prompt,
                completion,
                total,
                cached,
                reasoning,
                estimate,
                cost,
                source,
                latencyMs,
                ttfbMs,
                ttftMs,
                createdAt);
    }
}
