package io.switchboard.usage;

import io.switchboard.exchange.GatewayExchange;

/**
 * Told about each relayed exchange's usage as it ends (limits reconcile their reservations, metrics
 * count). Called on the event loop: must not block.
 */
public interface UsageListener {

    /** The proxy started relaying this exchange; {@link #onUsage} follows exactly once. */
    default void onOpen(GatewayExchange exchange) {}

    /** The exchange ended with this record (also written to the ledger). */
    void onUsage(GatewayExchange exchange, UsageRecord record);

    /** The upstream's final accounting replaced an estimate, some time after {@link #onUsage}. */
    default void onSettled(UsageRecord before, UsageRecord after) {}
}
