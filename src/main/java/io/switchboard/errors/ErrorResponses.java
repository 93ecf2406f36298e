package io.switchboard.errors;

import io.switchboard.exchange.GatewayExchange;
import org.jspecify.annotations.Nullable;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/** Writes a {@link GatewayException} as the OpenAI-shaped response: the only way errors leave. */
public final class ErrorResponses {

    private ErrorResponses() {}

    public static Mono<Void> write(ServerWebExchange exchange, GatewayException error) {
        ServerHttpResponse response = exchange.getResponse();
        if (response.isCommitted()) {
            return Mono.error(error);
        }
        response.setStatusCode(error.code().status());
        HttpHeaders headers = response.getHeaders();
        headers.setContentType(MediaType.APPLICATION_JSON);
        headers.remove(HttpHeaders.CONTENT_ENCODING);
        headers.remove(HttpHeaders.TRANSFER_ENCODING);
        error.headers().forEach((name, values) -> headers.put(name, values));
        byte[] body = OpenAiErrorBody.render(error.code(), error.getMessage(), error.param(), requestId(exchange));
        headers.setContentLength(body.length);
        DataBuffer buffer = response.bufferFactory().wrap(body);
        return response.writeWith(Mono.just(buffer));
    }

    private static @Nullable String requestId(ServerWebExchange exchange) {
        GatewayExchange state = GatewayExchange.find(exchange);
        return state == null ? null : state.requestId();
    }
}
