package io.switchboard.keys;

import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.ErrorResponses;
import io.switchboard.errors.GatewayException;
import io.switchboard.exchange.CallerKey;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.PipelineOrder;
import io.switchboard.exchange.ProxyRequest;
import org.springframework.core.Ordered;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * 403 when the request names a model the key may not use. Runs after the body filter, so it sees the
 * model after alias rewrite and every entry of OpenRouter's {@code models} fallback array: a key
 * limited to {@code openai/*} cannot reach another model by an alias or a fallback.
 */
public final class ModelAccessWebFilter implements WebFilter, Ordered {

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        GatewayExchange state = GatewayExchange.find(exchange);
        if (state == null) {
            return chain.filter(exchange);
        }
        CallerKey caller = state.caller();
        ProxyRequest request = state.request();
        if (caller == null || request == null || caller.allowedModels().isEmpty()) {
            return chain.filter(exchange);
        }
        for (String model : request.allModels()) {
            if (!ModelPatterns.allows(caller.allowedModels(), model)) {
                return ErrorResponses.write(
                        exchange,
                        GatewayException.of(
                                ErrorCode.MODEL_NOT_ALLOWED,
                                "This API key may not use the model '" + printable(model) + "'.",
                                "model"));
            }
        }
        return chain.filter(exchange);
    }

    /** The client's own model name, trimmed and limited to printable ASCII before it is echoed. */
    private static String printable(String model) {
        StringBuilder out = new StringBuilder(Math.min(model.length(), 120));
        for (int i = 0; i < model.length() && out.length() < 120; i++) {
            char c = model.charAt(i);
            out.append(c >= 0x20 && c < 0x7f && c != '\'' ? c : '?');
        }
        return out.toString();
    }

    @Override
    public int getOrder() {
        return PipelineOrder.MODEL_ACCESS;
    }

    /** A constant: Spring's filter chain labels every call of every filter with it, on every request. */
    @Override
    public String toString() {
        return "ModelAccessWebFilter";
    }
}
