package io.switchboard.metrics;

import io.switchboard.errors.GatewayException;
import io.switchboard.exchange.CallerKey;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.PipelineOrder;
import io.switchboard.exchange.ProxyRequest;
import org.jspecify.annotations.Nullable;
import org.springframework.core.Ordered;
import org.springframework.http.HttpStatusCode;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

/**
 * Counts and times every data-plane request, refused ones included (401, 429, 402), from the moment
 * it got its request id until its answer ended, however it ended: the timer stops in
 * {@code doFinally}, so a client that hangs up (a cancel, or a write to it that failed, which the relay
 * ends quietly) is counted too, as {@code client_closed}.
 * A stream that ended in the upstream's in-band error event counts as {@code midstream_error}: its
 * 200 was sent before the error was known, but it failed.
 */
public final class MetricsWebFilter implements WebFilter, Ordered {

    /** Right after the request id: it sees the outcome of everything after it, security included. */
    public static final int ORDER = PipelineOrder.REQUEST_ID + 10;

    private final GatewayMeters meters;
    private final boolean enabled;

    public MetricsWebFilter(GatewayMeters meters, MetricsProperties properties) {
        this.meters = meters;
        this.enabled = properties.enabled();
    }

    @Override
    public int getOrder() {
        return ORDER;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (!enabled) {
            return chain.filter(exchange);
        }
        GatewayExchange state = GatewayExchange.find(exchange);
        if (state == null || state.endpoint() == null) {
            return chain.filter(exchange);
        }
        return chain.filter(exchange)
                .doOnError(error -> exchange.getAttributes().put(ERROR, error))
                .doFinally(signal -> record(exchange, state, signal));
    }

    private static final String ERROR = MetricsWebFilter.class.getName() + ".error";

    /** The status of a request whose client went away before its answer ended. */
    private static final String CLIENT_CLOSED = "client_closed";

    /** The status of an answer whose 2xx stream carried the upstream's in-band error: not a success. */
    private static final String MIDSTREAM_ERROR = "midstream_error";

    private void record(ServerWebExchange exchange, GatewayExchange state, SignalType signal) {
        CallerKey caller = state.caller();
        ProxyRequest request = state.request();
        String provider = state.provider();
        meters.request(
                caller == null ? "none" : caller.name(),
                request == null ? "none" : request.model(),
                provider == null ? "none" : provider,
                status(exchange, state, signal),
                request != null && request.stream(),
                System.nanoTime() - state.startNanos());
    }

    private static String status(ServerWebExchange exchange, GatewayExchange state, SignalType signal) {
        if (signal == SignalType.CANCEL) {
            return CLIENT_CLOSED;
        }
        if (state.failedInBand()) {
            return MIDSTREAM_ERROR;
        }
        if (state.clientClosed()) {
            // Mostly noticed by a write to the gone client: the relay ends the answer quietly then.
            return CLIENT_CLOSED;
        }
        int code;
        if (signal == SignalType.ON_ERROR) {
            code = errorStatus(exchange.getAttribute(ERROR));
        } else {
            HttpStatusCode status = exchange.getResponse().getStatusCode();
            code = status == null ? 200 : status.value();
        }
        return (code / 100) + "xx";
    }

    /** The status the error handler will give this error, which runs after the filters end. */
    private static int errorStatus(@Nullable Throwable error) {
        if (error instanceof GatewayException gateway) {
            return gateway.code().status().value();
        }
        if (error instanceof ResponseStatusException status) {
            return status.getStatusCode().value();
        }
        if (error instanceof org.springframework.security.core.AuthenticationException) {
            return 401;
        }
        return 500;
    }

    /** A constant: Spring's filter chain labels every call of every filter with it, on every request. */
    @Override
    public String toString() {
        return "MetricsWebFilter";
    }
}
