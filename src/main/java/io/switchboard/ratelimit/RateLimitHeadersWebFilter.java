package io.switchboard.ratelimit;

import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.PipelineOrder;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Puts the key's {@code x-ratelimit-*} headers on every data-plane answer that passed
 * authentication, just before it commits (so they replace any the upstream sent): the numbers the
 * rate-limit check took when it ran, else (a 400, 403 or 413 refused before it) the buckets as they
 * stand, read without taking anything. A key without an {@code rpm} or {@code tpm} limit has no
 * numbers to report, and a failed read leaves the headers out rather than fail the answer.
 */
final class RateLimitHeadersWebFilter implements WebFilter, Ordered {

    private static final String TAKEN = RateLimitHeadersWebFilter.class.getName() + ".taken";
    static final Duration MINUTE = Duration.ofMinutes(1);

    private final LimitStore store;
    private final RateLimitProperties.Defaults defaults;

    RateLimitHeadersWebFilter(LimitStore store, RateLimitProperties.Defaults defaults) {
        this.store = store;
        this.defaults = defaults;
    }

    /** What the rate-limit check took for this exchange: the headers report it. */
    static void taken(ServerWebExchange exchange, LimitStore.Take requests, LimitStore.@Nullable Take tokens) {
        exchange.getAttributes().put(TAKEN, new Taken(requests, tokens));
    }

    private record Taken(LimitStore.Take requests, LimitStore.@Nullable Take tokens) {}

    @Override
    public int getOrder() {
        return PipelineOrder.RATE_LIMIT_HEADERS;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        GatewayExchange state = GatewayExchange.find(exchange);
        if (state == null || state.endpoint() == null) {
            return chain.filter(exchange);
        }
        KeyLimits limits = KeyLimits.of(state.caller(), defaults);
        if (limits.rpm() == null && limits.tpm() == null) {
            return chain.filter(exchange);
        }
        exchange.getResponse().beforeCommit(() -> write(exchange, limits));
        return chain.filter(exchange);
    }

    private Mono<Void> write(ServerWebExchange exchange, KeyLimits limits) {
        HttpHeaders headers = exchange.getResponse().getHeaders();
        Taken taken = exchange.getAttribute(TAKEN);
        if (taken != null) {
            RateLimitHeaders.write(headers, limits, taken.requests(), taken.tokens());
            return Mono.empty();
        }
        return peek(limits.keyId() + ":rpm", limits.rpm())
                .zipWith(peek(limits.keyId() + ":tpm", limits.tpm()))
                .doOnNext(both -> RateLimitHeaders.write(headers, limits, both.getT1(), both.getT2()))
                .onErrorResume(error -> Mono.empty())
                .then();
    }

    private Mono<LimitStore.Take> peek(String bucket, @Nullable Long limit) {
        if (limit == null) {
            return Mono.just(RateLimitWebFilter.UNLIMITED);
        }
        if (limit <= 0) {
            return Mono.just(RateLimitWebFilter.NONE_ALLOWED);
        }
        return store.peek(bucket, limit, MINUTE);
    }

    /** A constant: Spring's filter chain labels every call of every filter with it, on every request. */
    @Override
    public String toString() {
        return "RateLimitHeadersWebFilter";
    }
}
