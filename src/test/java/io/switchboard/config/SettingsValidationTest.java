package io.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.switchboard.keys.KeysProperties;
import io.switchboard.ratelimit.RateLimitProperties;
import io.switchboard.upstream.AttributionProperties;
import io.switchboard.upstream.ProviderProperties;
import io.switchboard.usage.UsageProperties;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * Settings that would fail every request later are refused when the gateway starts, by the binding
 * Spring Boot does, with a message naming the setting: each was once accepted and then answered
 * every request 504 or 503, or spun a core.
 */
class SettingsValidationTest {

    private static final Map<String, Class<?>> RECORDS = Map.of(
            "gateway.providers.x", ProviderProperties.class,
            "gateway.keys", KeysProperties.class,
            "gateway.usage", UsageProperties.class,
            "gateway.ratelimit", RateLimitProperties.class,
            "gateway.attribution", AttributionProperties.class,
            "gateway.limits", io.switchboard.proxy.BodyLimitProperties.class);

    @ParameterizedTest
    @CsvSource({
        "gateway.providers.x, response-timeout, 0s",
        "gateway.providers.x, connect-timeout, 0s",
        "gateway.providers.x, idle-timeout, 0s",
        "gateway.providers.x, base-url, localhost:11434/v1",
        "gateway.providers.x, base-url, api.example.com/v1",
        "gateway.providers.x, base-url, https://user:secret@llm.internal/v1",
        "gateway.providers.x, base-url, https://x.example.com/openai?api-version=2024-10-21",
        "gateway.providers.x, max-connections, 0",
        "gateway.keys, lookup-timeout, 500us",
        "gateway.keys, last-used-flush, 0s",
        "gateway.keys, cache.refresh, 0s",
        "gateway.keys, cache.max-staleness, 0s",
        "gateway.keys, model-list-ttl, 0s",
        "gateway.usage, flush-interval, 0s",
        "gateway.usage, retry-backoff, 0s",
        "gateway.usage, pricing-refresh, 0s",
        "gateway.ratelimit, command-timeout, 0s",
        "gateway.ratelimit, defaults.rpm, -1",
        "gateway.ratelimit, defaults.tpm, -1",
        "gateway.ratelimit, defaults.max-concurrency, -1",
        "gateway.ratelimit, defaults.budget-usd, -0.01",
        "gateway.limits, max-body-size, 0",
        "gateway.limits, body-idle-timeout, 0s",
        "gateway.attribution, title, Équipe",
        "gateway.attribution, referer, https://example.com/a\u0007b"
    })
    void aValueThatWouldFailEveryRequestIsRefusedNamingTheSetting(String prefix, String name, String value) {
        assertThatThrownBy(() -> bind(prefix, Map.of(prefix + "." + name, value)))
                .isInstanceOf(BindException.class)
                .rootCause()
                .hasMessageContaining(name);
    }

    @Test
    void theDefaultsAndUsualValuesBind() {
        assertThat(bind("gateway.providers.x", Map.of("gateway.providers.x.base-url", "http://127.0.0.1:8000/v1")))
                .isNotNull();
        assertThat(bind("gateway.providers.x", Map.of("gateway.providers.x.api-key", "sk-x")))
                .as("no base URL binds: the registry refuses it (ProviderRegistryTest)")
                .isNotNull();
        assertThat(bind("gateway.keys", Map.of("gateway.keys.lookup-timeout", "1ms")))
                .isNotNull();
        assertThat(bind("gateway.usage", Map.of())).isNotNull();
        assertThat(bind("gateway.ratelimit", Map.of())).isNotNull();
    }

    /**
     * An attribution value pasted from a file with its line break was sent as a header value with
     * a line break, and every upstream call failed (502); a blank one sent an empty header.
     */
    @Test
    void attributionValuesAreStrippedAndABlankOneIsUnset() {
        AttributionProperties attribution = (AttributionProperties) bind(
                "gateway.attribution",
                Map.of("gateway.attribution.title", "My App\r\n", "gateway.attribution.categories", " "));
        assertThat(attribution.title()).isEqualTo("My App");
        assertThat(attribution.categories()).isNull();
        assertThatThrownBy(() -> bind("gateway.attribution", Map.of("gateway.attribution.title", "My\nApp")))
                .rootCause()
                .hasMessageContaining("gateway.attribution.title");
    }

    /**
     * The spill file lives beside the crash journal, under the storage path: left in ./data while
     * gateway.storage.path named a mounted volume, the rows it held went with the container.
     */
    @Test
    void theSpillFileIsUnderTheStoragePathUnlessItIsSet() {
        java.nio.file.Path volume = java.nio.file.Path.of("/var/lib/switchboard");
        UsageProperties unset = (UsageProperties) bind("gateway.usage", Map.of());
        assertThat(unset.spillFileUnder(volume)).isEqualTo(volume.resolve("usage-spill.jsonl"));
        UsageProperties set =
                (UsageProperties) bind("gateway.usage", Map.of("gateway.usage.spill-file", "/spill/rows.jsonl"));
        assertThat(set.spillFileUnder(volume)).isEqualTo(java.nio.file.Path.of("/spill/rows.jsonl"));
    }

    /** A static key with a negative limit: every request of that key refused, for good. */
    @Test
    void aStaticKeyWithANegativeLimitIsRefusedNamingTheKeyAndTheLimit() {
        for (String limit : new String[] {"rpm", "tpm", "max-concurrency", "budget-usd"}) {
            assertThatThrownBy(() -> bind(
                            "gateway.keys",
                            Map.of(
                                    "gateway.keys.static[0].name",
                                    "team-a",
                                    "gateway.keys.static[0].secret",
                                    "sk-gw-x",
                                    "gateway.keys.static[0]." + limit,
                                    "-1")))
                    .isInstanceOf(BindException.class)
                    .rootCause()
                    .hasMessageContaining("team-a")
                    .hasMessageContaining(limit);
        }
    }

    private static Object bind(String prefix, Map<String, String> settings) {
        return new Binder(new MapConfigurationPropertySource(settings)).bindOrCreate(prefix, RECORDS.get(prefix));
    }
}
