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
 * numbers to report (the upstream's own pass through), and a failed read leaves the headers out
 * rather than fail the answer. A key with such a limit never gets the upstream's {@code x-ratelimit-*}
 * headers: those count the provider account every key shares.
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
        KeyLimits limits = KeyLimits.of(exchange, state.caller(), defaults);
        if (limits.rpm() == null && limits.tpm() == null) {
            return chain.filter(exchange);
        }
        exchange.getResponse().beforeCommit(() -> write(exchange, limits));
        return chain.filter(exchange);
    }

    private Mono<Void> write(ServerWebExchange exchange, KeyLimits limits) {
        HttpHeaders headers = exchange.getResponse().getHeaders();
        // The upstream's own numbers are its account's, shared by every key: never mixed with the
        // key's (a key with only rpm would otherwise show the provider's token quota as its own).
        RateLimitHeaders.removeAll(headers);
        Taken taken = exchange.getAttribute(TAKEN);
        if (taken != null && (taken.tokens() != null || limits.tpm() == null)) {
            RateLimitHeaders.write(headers, limits, taken.requests(), taken.tokens());
            return Mono.empty();
        }
        // Refused before the check, or by the rpm check before the tokens were taken: the buckets
        // not taken from are read as they stand.
        Mono<LimitStore.Take> requests =
                taken != null ? Mono.just(taken.requests()) : peek(limits.keyId() + ":rpm", limits.rpm());
        return requests.zipWith(peek(limits.keyId() + ":tpm", limits.tpm()))
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
