package io.switchboard.usage;

import io.switchboard.exchange.CallerKey;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.ProxyRequest;
import java.time.Instant;

/**
 * What the crash journal knows of a request the moment it is admitted to the proxy: enough to write
 * its ledger row if the process dies before the request ends.
 *
 * @param entryId the ledger row's id, the same one the finished record will carry
 * @param promptTokenEstimate the request's own prompt estimate (bytes / 4)
 */
record JournalAdmission(
        String entryId,
        String requestId,
        String keyId,
        String keyName,
        String endpoint,
        String requestedModel,
        String model,
        String provider,
        boolean stream,
        long promptTokenEstimate,
        long startEpochMillis) {

    /** Only references: the line is formatted later, on the journal's writer thread. */
    static JournalAdmission of(String entryId, GatewayExchange exchange, ProxyRequest request) {
        CallerKey caller = exchange.caller();
        String provider = exchange.provider();
        return new JournalAdmission(
                entryId,
                exchange.requestId(),
                caller == null ? UsageObserver.ANONYMOUS : caller.id(),
                caller == null ? UsageObserver.ANONYMOUS : caller.name(),
                request.endpoint().label(),
                request.requestedModel(),
                request.model(),
                provider == null ? "" : provider,
                request.stream(),
                request.promptTokenEstimate(),
                exchange.startEpochMillis());
    }

    /**
     * The row of a request the process was killed under. What the upstream did with it is unknown:
     * the prompt is the request's estimate, nothing is known of a completion, and the row says it is
     * an estimate. Status 0: the client got no complete answer from this process.
     */
    UsageRecord interrupted() {
        return new UsageRecord(
                entryId,
                requestId,
                keyId,
                keyName,
                endpoint,
                requestedModel,
                model,
                null,
                provider,
                null,
                null,
                stream,
                0,
                UsageOutcome.INTERRUPTED,
                promptTokenEstimate,
                0,
                promptTokenEstimate,
                0,
                0,
                true,
                null,
                "none",
                0,
                null,
                null,
                Instant.ofEpochMilli(startEpochMillis));
    }
}
