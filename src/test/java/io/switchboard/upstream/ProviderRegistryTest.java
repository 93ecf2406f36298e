package io.switchboard.upstream;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProviderRegistryTest {

    /**
     * A provider whose base-url did not bind (a typo in its name) was left out with a warning, and
     * the requests for its models went to the catch-all provider instead: to OpenRouter, say, rather
     * than the company's own server. The gateway refuses to start, naming the setting.
     */
    @Test
    void aProviderWithoutABaseUrlIsRefusedAtStartNotLeftOut() {
        Map<String, ProviderProperties> configured = new LinkedHashMap<>();
        configured.put("openrouter", TestProviders.properties("https://openrouter.ai/api/v1", "sk-or", null));
        configured.put(
                "internal",
                new ProviderProperties(
                        null,
                        "sk-internal",
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(1),
                        null,
                        List.of("internal/*"),
                        10,
                        Duration.ofSeconds(5)));

        assertThatThrownBy(() -> new ProviderRegistry(configured))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("gateway.providers.internal.base-url");
    }
    /**
     * A second provider without models (a local server added on the command line beside OpenRouter)
     * took every model, or none, by property order: refused at start, naming both.
     */
    @Test
    void twoProvidersThatServeEveryModelAreRefusedAtStart() {
        Map<String, ProviderProperties> configured = new LinkedHashMap<>();
        configured.put("openrouter", TestProviders.properties("https://openrouter.ai/api/v1", "sk-or", null));
        configured.put("local", TestProviders.properties("http://127.0.0.1:11434/v1", "", null));

        assertThatThrownBy(() -> new ProviderRegistry(configured))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("gateway.providers.local")
                .hasMessageContaining("gateway.providers.openrouter")
                .hasMessageContaining("models");
    }
}
