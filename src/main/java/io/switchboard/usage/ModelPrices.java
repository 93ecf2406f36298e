package io.switchboard.usage;

import io.switchboard.upstream.Provider;
import io.switchboard.upstream.ProviderModels;
import io.switchboard.upstream.ProviderRegistry;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

/**
 * Per-model prices: the configured ones first, else those of the upstreams' {@code /models} listings
 * (OpenRouter's {@code pricing.prompt} / {@code pricing.completion}, USD per token as strings), read
 * in the background at start and on a schedule, never on a request's path.
 */
public final class ModelPrices implements SmartLifecycle {

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

    /** Reads every provider's listing once, each for the models routed to it (so no model has two prices). */
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
        return ProviderModels.servedBy(providers, provider)
                .map(ModelPrices::prices)
                // Logged by ProviderModels; the other providers' prices still count.
                .onErrorResume(e -> Mono.empty());
    }

    static Map<String, ModelPrice> prices(List<JsonNode> models) {
        Map<String, ModelPrice> prices = new HashMap<>();
        for (JsonNode model : models) {
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

    /**
     * Stops last (and starts first). Spring stops a lifecycle bean's dependents before it: at the
     * default phase, stopping the price refresh stopped everything built on the prices at the very
     * start of a shutdown, before the web server let open streams finish (the limits' Redis client
     * among them, so those streams' slots and budget settlements never reached Redis).
     */
    @Override
    public int getPhase() {
        return UsageLedger.PHASE - 1024;
    }
}
