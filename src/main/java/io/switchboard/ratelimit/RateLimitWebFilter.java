package io.switchboard.ratelimit;

import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.ErrorResponses;
import io.switchboard.errors.GatewayException;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.PipelineOrder;
import io.switchboard.exchange.ProxyRequest;
import io.switchboard.metrics.GatewayMeters;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Admission by rate (429): requests per minute, tokens per minute (an estimate reserved now:
 * the prompt estimate plus {@code max_tokens} or {@code completion-estimate}; reconciled with the
 * real usage when the request ends) and concurrent requests (released when the answer ends or the
 * client leaves). What it took is handed to {@link RateLimitHeadersWebFilter}, which puts the
 * key's {@code x-ratelimit-*} headers on the answer, a 429 included.
 */
public final class RateLimitWebFilter implements WebFilter, Ordered {

    private static final Duration MINUTE = RateLimitHeadersWebFilter.MINUTE;

    private final LimitStore store;
    private final Admissions admissions;
    private final RateLimitProperties properties;
    private final @Nullable GatewayMeters meters;

    RateLimitWebFilter(
            LimitStore store, Admissions admissions, RateLimitProperties properties, @Nullable GatewayMeters meters) {
        this.store = store;
        this.admissions = admissions;
        this.properties = properties;
        this.meters = meters;
    }

    @Override
    public int getOrder() {
        return PipelineOrder.RATE_LIMIT;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        GatewayExchange state = GatewayExchange.find(exchange);
        if (state == null || state.endpoint() == null) {
            return chain.filter(exchange);
        }
        KeyLimits limits = KeyLimits.of(exchange, state.caller(), properties.defaults());
        if (!limits.limitsRate()) {
            return chain.filter(exchange);
        }
        Admission admission = admissions.open(state, limits);
        long estimate = tokenEstimate(state.request());
        return requests(limits)
                .flatMap(requests -> {
                    if (!requests.allowed()) {
                        RateLimitHeadersWebFilter.taken(exchange, requests, null);
                        return refuse(exchange, state, limits, "rpm", requests, null, requests.retryAfterNanos());
                    }
                    return tokens(limits, estimate).flatMap(tokens -> {
                        RateLimitHeadersWebFilter.taken(exchange, requests, tokens);
                        if (!tokens.allowed()) {
                            requests.adjust(-1).subscribe(null, e -> {});
                            RateLimitHeadersWebFilter.taken(exchange, givenBack(requests, 1), tokens);
                            return refuse(exchange, state, limits, "tpm", requests, tokens, tokens.retryAfterNanos());
                        }
                        long tokensTaken = limits.tpm() == null ? 0 : tokens.taken(Math.min(estimate, limits.tpm()));
                        admission.tokens(tokens, tokensTaken);
                        return slot(limits).flatMap(slot -> {
                            if (!slot.granted()) {
                                // The request and its tokens are given back (the tokens when the
                                // admission ends): the 429's headers count them as back.
                                requests.adjust(-1).subscribe(null, e -> {});
                                RateLimitHeadersWebFilter.taken(
                                        exchange, givenBack(requests, 1), givenBack(tokens, tokensTaken));
                                return refuse(exchange, state, limits, "concurrency", requests, tokens, 1_000_000_000L);
                            }
                            admission.slot(slot);
                            return chain.filter(exchange);
                        });
                    });
                })
                .doFinally(signal -> admissions.ended(state));
    }

    /** A take as the headers report it once {@code back} of what it took was given back. */
    private static LimitStore.Take givenBack(LimitStore.Take take, long back) {
        if (back == 0) {
            return take;
        }
        return new LimitStore.Take() {
            @Override
            public boolean allowed() {
                return take.allowed();
            }

            @Override
            public long remaining() {
                return saturatingAdd(take.remaining(), back);
            }

            @Override
            public long resetNanos() {
                return take.resetNanos();
            }

            @Override
            public long retryAfterNanos() {
                return take.retryAfterNanos();
            }

            @Override
            public Mono<Void> adjust(long delta) {
                return take.adjust(delta);
            }
        };
    }

    private long tokenEstimate(@Nullable ProxyRequest request) {
        if (request == null) {
            return 0;
        }
        long completion = request.completionCeiling(properties.completionEstimate());
        return Math.max(1, saturatingAdd(request.promptTokenEstimate(), completion));
    }

    private static long saturatingAdd(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }

    private Mono<LimitStore.Take> requests(KeyLimits limits) {
        Long rpm = limits.rpm();
        if (rpm == null) {
            return Mono.just(UNLIMITED);
        }
        if (rpm <= 0) {
            return Mono.just(NONE_ALLOWED);
        }
        return store.take(limits.keyId() + ":rpm", rpm, MINUTE, 1);
    }

    private Mono<LimitStore.Take> tokens(KeyLimits limits, long estimate) {
        Long tpm = limits.tpm();
        if (tpm == null) {
            return Mono.just(UNLIMITED);
        }
        if (tpm <= 0) {
            return Mono.just(NONE_ALLOWED);
        }
        if (estimate == 0) {
            // A request without a body (the model list, a wrong method) carries no tokens: it only
            // reads the bucket for the headers. A take of nothing is not a take (Bucket4j refuses it).
            return store.peek(limits.keyId() + ":tpm", tpm, MINUTE);
        }
        return store.take(limits.keyId() + ":tpm", tpm, MINUTE, estimate);
    }

    private Mono<LimitStore.Slot> slot(KeyLimits limits) {
        Integer max = limits.maxConcurrency();
        if (max == null) {
            return Mono.just(LimitStore.Slot.FREE);
        }
        if (max <= 0) {
            return Mono.just(LimitStore.Slot.REFUSED);
        }
        return store.acquire(limits.keyId(), max);
    }

    private Mono<Void> refuse(
            ServerWebExchange exchange,
            GatewayExchange state,
            KeyLimits limits,
            String limit,
            LimitStore.Take requests,
            LimitStore.@Nullable Take tokens,
            long retryAfterNanos) {
        if (meters != null) {
            meters.rejected(limit, limits.keyName());
        }
        // The x-ratelimit-* headers come from RateLimitHeadersWebFilter, which was told what was taken.
        HttpHeaders headers = new HttpHeaders();
        headers.set(HttpHeaders.RETRY_AFTER, RateLimitHeaders.retryAfter(retryAfterNanos));
        String message = switch (limit) {
            case "rpm" -> "Rate limit reached for requests per minute on this key.";
            case "tpm" -> "Rate limit reached for tokens per minute on this key.";
            default -> "Too many concurrent requests on this key.";
        };
        return ErrorResponses.write(exchange, GatewayException.withHeaders(ErrorCode.RATE_LIMITED, message, headers));
    }

    /** The answer for a limit the key does not have. */
    static final LimitStore.Take UNLIMITED = new LocalLimitStore.LocalTake(null, true, Long.MAX_VALUE, 0, 0);

    /** The answer for a limit of zero. */
    static final LimitStore.Take NONE_ALLOWED =
            new LocalLimitStore.LocalTake(null, false, 0, MINUTE.toNanos(), MINUTE.toNanos());

    /** A constant: Spring's filter chain labels every call of every filter with it, on every request. */
    @Override
    public String toString() {
        return "RateLimitWebFilter";
    }
}
