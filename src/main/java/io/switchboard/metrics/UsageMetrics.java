package io.switchboard.metrics;

import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.ProxyRequest;
import io.switchboard.usage.UsageListener;
import io.switchboard.usage.UsageOutcome;
import io.switchboard.usage.UsageRecord;

/** Turns each usage record into token, cost, time-to-first-token and upstream-error meters. */
public final class UsageMetrics implements UsageListener {

    private final GatewayMeters meters;

    public UsageMetrics(GatewayMeters meters) {
        this.meters = meters;
    }

    @Override
    public void onOpen(GatewayExchange exchange) {
        ProxyRequest request = exchange.request();
        if (request != null && request.stream()) {
            meters.streamOpened();
        }
    }

    @Override
    public void onUsage(GatewayExchange exchange, UsageRecord record) {
        if (record.stream()) {
            meters.streamClosed();
        }
        String key = record.keyName();
        boolean succeeded = record.outcome() == UsageOutcome.SUCCESS;
        String model = meters.usageModelTag(record.model(), succeeded);
        String provider = record.provider();
        meters.tokens(key, model, provider, "prompt", record.promptTokens());
        meters.tokens(key, model, provider, "completion", record.completionTokens());
        meters.tokens(key, model, provider, "cached", record.cachedTokens());
        meters.tokens(key, model, provider, "reasoning", record.reasoningTokens());
        if (record.costUsd() != null) {
            meters.cost(key, model, provider, record.costUsd().doubleValue());
        }
        if (record.ttftMs() != null && succeeded) {
            meters.timeToFirstToken(key, model, provider, record.stream(), record.ttftMs());
        }
        if (record.outcome().failed() && record.outcome() != UsageOutcome.CLIENT_CLOSED) {
            meters.upstreamError(provider, record.outcome().value());
        }
    }

    @Override
    public void onSettled(UsageRecord before, UsageRecord after) {
        // Count what settlement added. Counters only grow: a settlement that lowers an estimate
        // (the prompt estimate often runs high) leaves them at the estimate; the ledger has the
        // exact figures.
        String key = after.keyName();
        String model = meters.usageModelTag(after.model(), after.outcome() == UsageOutcome.SUCCESS);
        String provider = after.provider();
        meters.tokens(key, model, provider, "prompt", after.promptTokens() - before.promptTokens());
        meters.tokens(key, model, provider, "completion", after.completionTokens() - before.completionTokens());
        meters.tokens(key, model, provider, "cached", after.cachedTokens() - before.cachedTokens());
        meters.tokens(key, model, provider, "reasoning", after.reasoningTokens() - before.reasoningTokens());
        if (after.costUsd() != null) {
            double was = before.costUsd() == null ? 0 : before.costUsd().doubleValue();
            meters.cost(key, model, provider, after.costUsd().doubleValue() - was);
        }
    }
}
