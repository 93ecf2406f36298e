package io.switchboard.demo;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Reading a small JSON request and writing JSON answers and OpenAI-shaped errors. */
final class DemoBodies {

    /** A request body the demo cannot read; answered with 400. */
    static final class BadRequest extends RuntimeException {
        BadRequest(String message) {
            super(message, null, false, false);
        }
    }

    private DemoBodies() {}

    static Mono<JsonNode> read(HttpServerRequest request, int maxBytes, JsonMapper json) {
        // The demo is the upstream, not the gateway: holding a small body in memory is fine here.
        return request.receive()
                .aggregate()
                .asString(StandardCharsets.UTF_8)
                .defaultIfEmpty("")
                .map(text -> {
                    if (text.length() > maxBytes) {
                        throw new BadRequest("Request body too large for the demo upstream");
                    }
                    try {
                        JsonNode node = json.readTree(text);
                        if (node == null || !node.isObject()) {
                            throw new BadRequest("Request body must be a JSON object");
                        }
                        return node;
                    } catch (JacksonException e) {
                        throw new BadRequest("Request body is not valid JSON");
                    }
                });
    }

    static Mono<Void> json(HttpServerResponse response, JsonMapper json, HttpResponseStatus status, JsonNode body) {
        return response.status(status)
                .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .sendString(Mono.just(json.writeValueAsString(body)), StandardCharsets.UTF_8)
                .then();
    }

    static Mono<Void> error(
            HttpServerResponse response, JsonMapper json, HttpResponseStatus status, String message, String code) {
        ObjectNode body = json.createObjectNode();
        body.putObject("error")
                .put("message", message)
                .put("type", status.code() >= 500 ? "server_error" : "invalid_request_error")
                .put("code", code);
        return json(response, json, status, body);
    }
}
