package io.switchboard.keys;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import io.switchboard.exchange.CallerKey;
import io.switchboard.upstream.Provider;
import io.switchboard.upstream.ProviderRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The upstream's model list, fetched from the primary provider and kept for {@code ttl} (refreshed in
 * the background after that, the old list served meanwhile), then filtered per key. Each entry is kept
 * as the upstream sent it (pricing, context length, ...); only entries are dropped. A small cached list
 * off the streaming path, so holding it whole is fine.
 */
public final class ModelCatalog {

    private static final Logger log = LoggerFactory.getLogger(ModelCatalog.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration MAX_WAIT = Duration.ofSeconds(30);

    private final ProviderRegistry providers;
    private final AsyncLoadingCache<String, List<JsonNode>> cache;

    public ModelCatalog(ProviderRegistry providers, Duration ttl) {
        this.providers = providers;
        this.cache = Caffeine.newBuilder()
                .maximumSize(1)
                .refreshAfterWrite(ttl)
                .expireAfterWrite(ttl.multipliedBy(12))
                .buildAsync((key, executor) -> fetch().toFuture());
    }

    /** {@code {"object":"list","data":[...]}} with only the models {@code caller} may use. */
    public Mono<byte[]> listFor(CallerKey caller) {
        return Mono.fromFuture(cache.get("models"), true)
                .onErrorMap(
                        error -> !(error instanceof GatewayException),
                        error -> GatewayException.of(
                                ErrorCode.UPSTREAM_UNREACHABLE, "The upstream's model list is not available."))
                .map(models -> render(models, caller));
    }

    private static byte[] render(List<JsonNode> models, CallerKey caller) {
        ObjectNode root = JSON.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (JsonNode model : models) {
            JsonNode id = model.get("id");
            if (id != null && id.isString() && ModelPatterns.allows(caller.allowedModels(), id.asString())) {
                data.add(model);
            }
        }
        return JSON.writeValueAsBytes(root);
    }

    private Mono<List<JsonNode>> fetch() {
        Provider provider = providers.primary();
        if (provider == null) {
            return Mono.just(List.of());
        }
        String uri = provider.uriFor("/models");
        Duration wait = provider.responseTimeout().compareTo(MAX_WAIT) < 0 ? provider.responseTimeout() : MAX_WAIT;
        return provider.httpClient()
                .headers(headers -> {
                    headers.set(HttpHeaderNames.ACCEPT, "application/json");
                    if (!provider.authorization().isEmpty()) {
                        headers.set(HttpHeaderNames.AUTHORIZATION, provider.authorization());
                    }
                })
                .get()
                .uri(uri)
                .responseSingle((response, body) -> {
                    if (response.status().code() / 100 != 2) {
                        return Mono.error(GatewayException.of(
                                ErrorCode.UPSTREAM_ERROR,
                                "The upstream refused the model list (status "
                                        + response.status().code() + ")."));
                    }
                    return body.asByteArray();
                })
                .timeout(wait)
                .map(ModelCatalog::parse)
                .doOnError(error ->
                        log.warn("Could not fetch the model list from '{}': {}", provider.name(), error.toString()));
    }

    private static List<JsonNode> parse(byte[] body) {
        JsonNode root = JSON.readTree(body);
        JsonNode data = root.get("data");
        if (data == null || !data.isArray()) {
            throw GatewayException.of(ErrorCode.UPSTREAM_ERROR, "The upstream's model list is malformed.");
        }
        List<JsonNode> models = new ArrayList<>(data.size());
        data.forEach(models::add);
        return List.copyOf(models);
    }
}
