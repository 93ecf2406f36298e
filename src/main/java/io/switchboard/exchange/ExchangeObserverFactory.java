package io.switchboard.exchange;

import org.jspecify.annotations.Nullable;

/** A bean that wants to watch relayed exchanges; asked once per exchange, before the upstream call. */
public interface ExchangeObserverFactory {

    /** An observer for this exchange, or null to sit this one out. */
    @Nullable
    ExchangeObserver open(GatewayExchange exchange);
}
