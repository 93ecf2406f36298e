package io.switchboard.keys;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.netty.channel.ConnectTimeoutException;
import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import io.switchboard.exchange.CallerKey;
import io.switchboard.upstream.ProviderModels;
import io.switchboard.upstream.ProviderRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The models of every configured upstream, each provider's list fetched with its own credential and
 * cut to the models the gateway routes to it (so a catch-all's list never repeats a named provider's
 * models, and the built-in demo upstream's {@code demo/*} are listed beside OpenRouter's), kept for
 * {@code ttl} (refreshed in the background after that, the old list served meanwhile), then filtered
 * per key. A provider whose list cannot be fetched is left out, and such a partial list is kept for
 * {@value #PARTIAL_SECONDS} s only; only when no provider answers is the listing an error. Each entry is
 * kept as the upstream sent it (pricing, context length, ...); only entries are dropped. A small cached
 * list off the streaming path, so holding it whole is fine.
 */
public final class ModelCatalog {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final long PARTIAL_SECONDS = 30;

    private final ProviderRegistry providers;
    private final AsyncLoadingCache<String, Listing> cache;

    public ModelCatalog(ProviderRegistry providers, Duration ttl) {
        this.providers = providers;
        this.cache = Caffeine.newBuilder()
                .maximumSize(1)
                .refreshAfterWrite(ttl)
                .expireAfter(Expiry.writing((String key, Listing listing) ->
                        listing.complete() ? ttl.multipliedBy(12) : Duration.ofSeconds(PARTIAL_SECONDS)))
                .buildAsync((key, executor) -> fetch().toFuture());
    }

    /** {@code {"object":"list","data":[...]}} with only the models {@code caller} may use. */
    public Mono<byte[]> listFor(CallerKey caller) {
        return listing().map(listing -> render(listing.models(), caller));
    }

    /**
     * The one entry {@code id} names, as the upstream listed it, when {@code caller} may use it;
     * else a 404 {@code model_not_found} (the same whether the model does not exist or the key may
     * not use it: a key learns nothing of models outside its list).
     */
    public Mono<byte[]> modelFor(CallerKey caller, String id) {
        return listing().flatMap(listing -> {
            if (ModelPatterns.allows(caller.allowedModels(), id)) {
                for (JsonNode model : listing.models()) {
                    JsonNode listed = model.get("id");
                    if (listed != null && listed.isString() && listed.asString().equals(id)) {
                        return Mono.just(JSON.writeValueAsBytes(model));
                    }
                }
            }
            return Mono.error(
                    GatewayException.of(ErrorCode.MODEL_NOT_FOUND, "This key has no model with this id.", "model"));
        });
    }

    private Mono<Listing> listing() {
        return Mono.fromFuture(cache.get("models"), true)
                .onErrorMap(
                        error -> !(error instanceof GatewayException),
                        error -> error instanceof TimeoutException || error instanceof ConnectTimeoutException
                                ? GatewayException.of(
                                        ErrorCode.UPSTREAM_TIMEOUT, "The upstream's model list did not come in time.")
                                : GatewayException.of(
                                        ErrorCode.UPSTREAM_UNREACHABLE, "The upstream's model list is not available."));
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

    /** Every provider's list, in the registry's order, merged; an error only when none answered. */
    private Mono<Listing> fetch() {
        return Flux.fromIterable(providers.all())
                .flatMapSequential(provider -> ProviderModels.servedBy(providers, provider)
                        .map(models -> new Answer(models, null))
                        .onErrorResume(error -> Mono.just(new Answer(List.of(), error))))
                .collectList()
                .flatMap(ModelCatalog::merge);
    }

    private static Mono<Listing> merge(List<Answer> answers) {
        List<JsonNode> models = new ArrayList<>();
        List<Throwable> errors = new ArrayList<>();
        for (Answer answer : answers) {
            if (answer.error() == null) {
                models.addAll(answer.models());
            } else {
                errors.add(answer.error());
            }
        }
        if (!answers.isEmpty() && errors.size() == answers.size()) {
            return Mono.error(errors.get(0));
        }
        return Mono.just(new Listing(List.copyOf(models), errors.isEmpty()));
    }

    /** One provider's answer: the models it serves, or why it gave none. */
    private record Answer(List<JsonNode> models, @Nullable Throwable error) {}

    /** The merged list; {@code complete} when every provider answered. */
    private record Listing(List<JsonNode> models, boolean complete) {}
}
