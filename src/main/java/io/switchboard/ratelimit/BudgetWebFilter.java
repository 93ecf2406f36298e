package io.switchboard.ratelimit;

import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.ErrorResponses;
import io.switchboard.errors.GatewayException;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.PipelineOrder;
import io.switchboard.exchange.ProxyRequest;
import io.switchboard.metrics.GatewayMeters;
import io.switchboard.usage.ModelPrice;
import io.switchboard.usage.ModelPrices;
import java.math.BigDecimal;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Admission by budget (402). Before forwarding, the request's worst-case cost (prompt estimate plus
 * {@code max_tokens}, or {@code budget-completion-cap}, at the model's price) is reserved
 * atomically; it is granted while spent plus reserved is below the budget, so concurrent requests,
 * on one replica or several sharing Redis, overshoot by at most one request's worst case. The
 * reservation is settled with the real cost from the usage record, or released whole when the
 * upstream never saw the request.
 *
 * <p>Until the spend of earlier runs has been read from the usage ledger, a key with a budget is
 * refused with 503 (fail closed, as unknown keys are while the database is down): admitting it
 * against an unknown spend could spend a used-up budget again.
 */
public final class BudgetWebFilter implements WebFilter, Ordered {

    private static final BigDecimal NANOS = BigDecimal.valueOf(1_000_000_000L);
    private static final String UNKNOWN_SPEND_RETRY_AFTER = "5";

    private final LimitStore store;
    private final Admissions admissions;
    private final ModelPrices prices;
    private final RateLimitProperties properties;
    private final @Nullable GatewayMeters meters;
    private final BooleanSupplier spendKnown;

    BudgetWebFilter(
            LimitStore store,
            Admissions admissions,
            ModelPrices prices,
            RateLimitProperties properties,
            @Nullable GatewayMeters meters,
            BooleanSupplier spendKnown) {
        this.store = store;
        this.admissions = admissions;
        this.prices = prices;
        this.properties = properties;
        this.meters = meters;
        this.spendKnown = spendKnown;
    }

    @Override
    public int getOrder() {
        return PipelineOrder.BUDGET;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        GatewayExchange state = GatewayExchange.find(exchange);
        ProxyRequest request = state == null ? null : state.request();
        if (state == null || request == null) {
            return chain.filter(exchange);
        }
        KeyLimits limits = KeyLimits.of(exchange, state.caller(), properties.defaults());
        Long budget = limits.budgetNanos();
        if (budget == null) {
            return chain.filter(exchange);
        }
        if (!spendKnown.getAsBoolean()) {
            return refuseUnknownSpend(exchange, limits);
        }
        long worstCase = worstCase(request);
        // Opened before the store answers, so that the chain's end finds it: a hold answered after
        // the client left then goes to an ended admission, which releases it at once.
        Admission admission = admissions.open(state, limits);
        return store.reserve(limits.keyId(), budget, worstCase)
                .flatMap(hold -> {
                    if (hold == LimitStore.Hold.UNAVAILABLE) {
                        return refuseUncheckable(
                                exchange,
                                limits,
                                "Budgets cannot be checked now: the shared limit store is unreachable. Retry shortly.");
                    }
                    if (!hold.granted()) {
                        if (meters != null) {
                            meters.rejected("budget", limits.keyName());
                        }
                        return ErrorResponses.write(
                                exchange,
                                GatewayException.of(
                                        ErrorCode.BUDGET_EXCEEDED,
                                        "This key's budget is spent. Ask an administrator to raise budget_usd."));
                    }
                    admission.hold(hold);
                    return chain.filter(exchange);
                })
                .doFinally(signal -> admissions.ended(state));
    }

    private Mono<Void> refuseUnknownSpend(ServerWebExchange exchange, KeyLimits limits) {
        return refuseUncheckable(
                exchange,
                limits,
                "Budgets are not known yet: the usage ledger with this key's past spend is unreachable."
                        + " Retry shortly.");
    }

    /** A 503 to retry, not a 402: the budget may well have room, it just cannot be checked now. */
    private Mono<Void> refuseUncheckable(ServerWebExchange exchange, KeyLimits limits, String message) {
        if (meters != null) {
            meters.rejected("budget_unknown", limits.keyName());
        }
        HttpHeaders headers = new HttpHeaders();
        headers.set(HttpHeaders.RETRY_AFTER, UNKNOWN_SPEND_RETRY_AFTER);
        return ErrorResponses.write(
                exchange, GatewayException.withHeaders(ErrorCode.SERVICE_UNAVAILABLE, message, headers));
    }

    /**
     * In nano-USD, priced at the dearest model that may serve the request (OpenRouter's {@code models}
     * fallbacks included: the one that answers is billed); zero when no price is known (the budget
     * then stops once spent).
     */
    long worstCase(ProxyRequest request) {
        long prompt = request.promptTokenEstimate();
        long completion = request.completionCeiling(properties.budgetCompletionCap());
        BigDecimal dearest = BigDecimal.ZERO;
        for (String model : request.allModels()) {
            ModelPrice price = prices.priceOf(model);
            if (price != null) {
                dearest = dearest.max(price.cost(prompt, completion));
            }
        }
        BigDecimal nanos = dearest.multiply(NANOS);
        // An absurd n or max_tokens must not wrap around to a small (or negative) reservation.
        return nanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE : nanos.longValue();
    }

    /** A constant: Spring's filter chain labels every call of every filter with it, on every request. */
    @Override
    public String toString() {
        return "BudgetWebFilter";
    }
}
