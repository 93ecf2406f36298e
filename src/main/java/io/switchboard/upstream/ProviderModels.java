package io.switchboard.upstream;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads one provider's model listing ({@code GET <base-url>/models}, with the provider's credential)
 * and keeps the entries the registry routes to that provider, each as the provider sent it. The one
 * place both the model list and the price table read listings from, so that the two agree on which
 * provider speaks for a model: never a catch-all's copy of a model that a named provider serves.
 */
public final class ProviderModels {

    private static final Logger log = LoggerFactory.getLogger(ProviderModels.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration MAX_WAIT = Duration.ofSeconds(30);

    private ProviderModels() {}

    /**
     * The entries of {@code provider}'s listing that {@code registry} sends to it; an error (logged)
     * when the provider does not answer 2xx with a JSON {@code data} array in time. OpenRouter's
     * listing is large, so it is parsed off the event loop.
     */
    public static Mono<List<JsonNode>> servedBy(ProviderRegistry registry, Provider provider) {
        Duration wait = provider.responseTimeout().compareTo(MAX_WAIT) < 0 ? provider.responseTimeout() : MAX_WAIT;
        return provider.httpClient()
                .headers(headers -> {
                    headers.set(HttpHeaderNames.ACCEPT, "application/json");
                    provider.writeCredential(headers);
                })
                .get()
                .uri(provider.uriFor("/models"))
                .responseSingle((response, body) -> response.status().code() / 100 == 2
                        ? body.asByteArray()
                        : Mono.error(GatewayException.of(
                                ErrorCode.UPSTREAM_ERROR,
                                "The upstream refused the model list (status "
                                        + response.status().code() + ").")))
                .timeout(wait)
                .publishOn(Schedulers.boundedElastic())
                .map(body -> routedTo(registry, provider, parse(body)))
                .doOnError(error ->
                        log.warn("Could not read the model list of '{}': {}", provider.name(), error.toString()));
    }

    private static List<JsonNode> parse(byte[] body) {
        JsonNode data = JSON.readTree(body).get("data");
        if (data == null || !data.isArray()) {
            throw GatewayException.of(ErrorCode.UPSTREAM_ERROR, "The upstream's model list is malformed.");
        }
        List<JsonNode> models = new ArrayList<>(data.size());
        data.forEach(models::add);
        return models;
    }

    private static List<JsonNode> routedTo(ProviderRegistry registry, Provider provider, List<JsonNode> models) {
        List<JsonNode> served = new ArrayList<>(models.size());
        for (JsonNode model : models) {
            JsonNode id = model.get("id");
            if (id != null && id.isString() && registry.forModel(id.asString()) == provider) {
                served.add(model);
            }
        }
        return List.copyOf(served);
    }
}
