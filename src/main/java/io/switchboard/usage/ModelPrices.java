package io.switchboard.usage;

import io.switchboard.upstream.Provider;
import io.switchboard.upstream.ProviderRegistry;
import java.math.BigDecimal;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Per-model prices: the configured ones first, else those of the upstreams' {@code /models} listings
 * (OpenRouter's {@code pricing.prompt} / {@code pricing.completion}, USD per token as strings), read
 * in the background at start and on a schedule, never on a request's path.
 */
public final class ModelPrices implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ModelPrices.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Map<String, PricingProperties.Override> configured;
    private final ProviderRegistry providers;
    private final Duration refresh;
    private final boolean fetch;
    private volatile Map<String, ModelPrice> listed = Map.of();
    private volatile @Nullable Disposable schedule;

    public ModelPrices(PricingProperties pricing, UsageProperties usage, ProviderRegistry providers) {
        this.configured = Map.copyOf(pricing.pricing());
        this.providers = providers;
        this.refresh = usage.pricingRefresh();
        this.fetch = usage.fetchPricing();
    }

    /** The price of {@code model}, or null when neither configuration nor a listing knows it. */
    public @Nullable ModelPrice priceOf(String model) {
        ModelPrice fromListing = listed.get(model);
        PricingProperties.Override override = configured.get(model);
        if (override == null) {
            return fromListing;
        }
        BigDecimal prompt = override.prompt() != null
                ? override.prompt()
                : fromListing != null ? fromListing.prompt() : BigDecimal.ZERO;
        BigDecimal completion = override.completion() != null
                ? override.completion()
                : fromListing != null ? fromListing.completion() : BigDecimal.ZERO;
        return new ModelPrice(prompt, completion);
    }

    /** Reads every provider's listing once; models seen in several keep the first provider's price. */
    public Mono<Void> refresh() {
        return Flux.fromIterable(providers.all())
                .concatMap(this::listing)
                .collectList()
                .doOnNext(listings -> {
                    Map<String, ModelPrice> merged = new HashMap<>();
                    listings.forEach(listing -> listing.forEach(merged::putIfAbsent));
                    if (!merged.isEmpty()) {
                        listed = Map.copyOf(merged);
                    }
                })
                .then();
    }

    private Mono<Map<String, ModelPrice>> listing(Provider provider) {
        URI uri = provider.baseUrl().resolve(provider.pathFor("/models"));
        return provider.httpClient()
                .headers(provider::writeCredential)
                .responseTimeout(Duration.ofSeconds(30))
                .get()
                .uri(uri)
                .responseSingle(
                        (response, body) -> response.status().code() == 200 ? body.asByteArray() : Mono.<byte[]>empty())
                .publishOn(Schedulers.boundedElastic())
                .map(ModelPrices::parse)
                .onErrorResume(e -> {
                    log.warn("Could not read model prices from provider '{}': {}", provider.name(), e.toString());
                    return Mono.empty();
                });
    }

    static Map<String, ModelPrice> parse(byte[] listing) {
        Map<String, ModelPrice> prices = new HashMap<>();
        JsonNode data = JSON.readTree(listing).path("data");
        for (JsonNode model : data) {
            String id = model.path("id").asString("");
            JsonNode pricing = model.path("pricing");
            BigDecimal prompt = decimal(pricing.path("prompt"));
            BigDecimal completion = decimal(pricing.path("completion"));
            if (!id.isEmpty() && prompt != null && completion != null) {
                prices.put(id, new ModelPrice(prompt, completion));
            }
        }
        return prices;
    }

    private static @Nullable BigDecimal decimal(JsonNode node) {
        try {
            if (node.isNumber()) {
                return node.decimalValue();
            }
            if (node.isString()) {
                BigDecimal value = new BigDecimal(node.asString());
                // OpenRouter lists "-1" for variable-priced routers such as openrouter/auto.
                return value.signum() < 0 ? null : value;
            }
        } catch (NumberFormatException e) {
            return null;
        }
        return null;
    }

    @Override
    public void start() {
        if (fetch && !providers.all().isEmpty()) {
            schedule = Flux.interval(Duration.ZERO, refresh)
                    .onBackpressureDrop()
                    .concatMap(tick -> refresh())
                    .subscribe();
        }
    }

    @Override
    public void stop() {
        Disposable current = schedule;
        if (current != null) {
            current.dispose();
        }
        schedule = null;
    }

    @Override
    public boolean isRunning() {
        return schedule != null;
    }
}
