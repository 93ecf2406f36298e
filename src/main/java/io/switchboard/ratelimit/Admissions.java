package io.switchboard.ratelimit;

import io.switchboard.exchange.GatewayExchange;
import io.switchboard.usage.UsageListener;
import io.switchboard.usage.UsageRecord;
import java.math.BigDecimal;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The admissions of requests in flight, keyed by their exchange state (by identity: request ids
 * come from clients and may repeat), and the usage listener that settles them. An entry lives from
 * admission until both the filter chain has ended and, if the request was relayed, its usage came.
 */
final class Admissions implements UsageListener {

    private final ConcurrentHashMap<GatewayExchange, Admission> inFlight = new ConcurrentHashMap<>();
    private final LimitStore store;

    Admissions(LimitStore store) {
        this.store = store;
    }

    Admission open(GatewayExchange exchange, KeyLimits limits) {
        return inFlight.computeIfAbsent(exchange, e -> new Admission(limits, store));
    }

    @Nullable
    Admission find(GatewayExchange exchange) {
        return inFlight.get(exchange);
    }

    void ended(GatewayExchange exchange) {
        Admission admission = inFlight.get(exchange);
        if (admission != null && admission.ended()) {
            inFlight.remove(exchange, admission);
        }
    }

    int size() {
        return inFlight.size();
    }

    @Override
    public void onOpen(GatewayExchange exchange) {
        Admission admission = inFlight.get(exchange);
        if (admission != null) {
            admission.observed();
        }
    }

    @Override
    public void onUsage(GatewayExchange exchange, UsageRecord record) {
        Admission admission = inFlight.get(exchange);
        if (admission == null) {
            // No limit applied to this key: still count its spend, for a budget set later.
            if (record.costUsd() != null && record.costUsd().signum() > 0) {
                store.spend(record.keyId(), KeyLimits.spentNanos(record.costUsd()))
                        .subscribe(null, error -> {});
            }
            return;
        }
        if (admission.usage(record)) {
            inFlight.remove(exchange, admission);
        }
    }

    @Override
    public void onSettled(UsageRecord before, UsageRecord after) {
        BigDecimal was = before.costUsd() == null ? BigDecimal.ZERO : before.costUsd();
        BigDecimal now = after.costUsd() == null ? BigDecimal.ZERO : after.costUsd();
        long delta = KeyLimits.spentNanos(now.subtract(was));
        if (delta != 0) {
            // Once per row across replicas: after a restart two of them may settle the same row.
            store.spendOnce(after.keyId(), delta, after.entryId()).subscribe(null, error -> {});
        }
    }
}
