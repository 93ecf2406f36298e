package io.switchboard.usage;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.testing.FakeUpstream;
import io.switchboard.upstream.ProviderProperties;
import io.switchboard.upstream.ProviderRegistry;
import io.switchboard.upstream.TestProviders;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Prices read from the providers' listings over real sockets: each model priced by the provider the
 * gateway sends it to, never by a catch-all's copy of a model a named provider serves, and a provider
 * that cannot answer costs only its own prices.
 */
class ModelPricesListingTest {

    private FakeUpstream openrouter;
    private FakeUpstream local;
    private ProviderRegistry registry;

    @BeforeEach
    void start() {
        openrouter = FakeUpstream.start();
        local = FakeUpstream.start();
        Map<String, ProviderProperties> providers = new LinkedHashMap<>();
        providers.put("openrouter", TestProviders.serving(openrouter.baseUrl(), List.of()));
        providers.put("local", TestProviders.serving(local.baseUrl(), List.of("local/*")));
        registry = new ProviderRegistry(providers);
    }

    @AfterEach
    void stop() {
        registry.close();
        openrouter.close();
        local.close();
    }

    /** The upstream answers {@code GET /models} with these entries. */
    private static void lists(FakeUpstream upstream, String... entries) {
        upstream.whenGet(
                "/models",
                FakeUpstream.json(200, "{\"object\":\"list\",\"data\":[" + String.join(",", entries) + "]}", Map.of()));
    }

    private static String entry(String id, String prompt, String completion) {
        return "{\"id\":\"" + id + "\",\"pricing\":{\"prompt\":\"" + prompt + "\",\"completion\":\"" + completion
                + "\"}}";
    }

    private ModelPrices refreshed() {
        ModelPrices prices =
                new ModelPrices(new PricingProperties(Map.of()), UsageFixtures.properties(Map.of()), registry);
        prices.refresh().block(Duration.ofSeconds(20));
        return prices;
    }

    @Test
    void eachModelIsPricedByTheProviderItIsRoutedTo() {
        lists(openrouter, entry("openai/gpt-5-nano", "0.00000005", "0.0000004"), entry("local/llama", "9", "9"));
        // The local server also lists a model the gateway never sends to it: not its price to set.
        lists(local, entry("local/llama", "0.000001", "0.000002"), entry("openai/gpt-5-nano", "7", "7"));

        ModelPrices prices = refreshed();

        assertThat(prices.priceOf("openai/gpt-5-nano"))
                .isEqualTo(new ModelPrice(new BigDecimal("0.00000005"), new BigDecimal("0.0000004")));
        assertThat(prices.priceOf("local/llama"))
                .isEqualTo(new ModelPrice(new BigDecimal("0.000001"), new BigDecimal("0.000002")));
    }

    @Test
    void aProviderThatCannotAnswerLeavesTheOthersPrices() {
        openrouter.whenGet("/models", FakeUpstream.json(503, "{\"error\":{\"message\":\"down\"}}", Map.of()));
        lists(local, entry("local/llama", "0.000001", "0.000002"));

        ModelPrices prices = refreshed();

        assertThat(prices.priceOf("local/llama")).isNotNull();
        assertThat(prices.priceOf("openai/gpt-5-nano")).isNull();
    }
}
