package io.switchboard.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.switchboard.exchange.Attribution;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;

class UpstreamRequestHeadersTest {

    private final ProviderRegistry registry = new ProviderRegistry(
            Map.of("openrouter", TestProviders.properties("https://openrouter.ai/api/v1", "sk-or-secret", null)));

    @AfterEach
    void close() {
        registry.close();
    }

    private DefaultHttpHeaders write(AttributionProperties gateway, Attribution key) {
        HttpHeaders client = new HttpHeaders();
        client.set("HTTP-Referer", "https://client.example");
        client.set("X-Title", "Client App");
        DefaultHttpHeaders upstream = new DefaultHttpHeaders();
        new UpstreamRequestHeaders(gateway).write(client, upstream, registry.primary(), key, "req-1", 10);
        return upstream;
    }

    @Test
    void gatewayAttributionWinsOverTheClientsByDefault() {
        DefaultHttpHeaders upstream =
                write(new AttributionProperties("https://co.example", "Co", null, false), Attribution.NONE);
        assertThat(upstream.get("HTTP-Referer")).isEqualTo("https://co.example");
        assertThat(upstream.get("X-Title")).isEqualTo("Co");
        assertThat(upstream.get("X-OpenRouter-Title")).isEqualTo("Co");
        assertThat(upstream.get("Authorization")).isEqualTo("Bearer sk-or-secret");
    }

    @Test
    void clientAttributionWinsWhenOverrideIsOn() {
        DefaultHttpHeaders upstream =
                write(new AttributionProperties("https://co.example", "Co", "cli", true), Attribution.NONE);
        assertThat(upstream.get("HTTP-Referer")).isEqualTo("https://client.example");
        assertThat(upstream.get("X-OpenRouter-Title")).isEqualTo("Client App");
        assertThat(upstream.get("X-OpenRouter-Categories")).isEqualTo("cli");
    }

    @Test
    void aKeysOwnAttributionWinsFieldByFieldOverTheGateways() {
        DefaultHttpHeaders upstream = write(
                new AttributionProperties("https://co.example", "Co", "cli", false),
                new Attribution("https://team-a.example", "Team A", null));
        assertThat(upstream.get("HTTP-Referer")).isEqualTo("https://team-a.example");
        assertThat(upstream.get("X-Title")).isEqualTo("Team A");
        assertThat(upstream.get("X-OpenRouter-Categories")).isEqualTo("cli");
    }

    @Test
    void aKeyWithOnlyAReferrerKeepsTheGatewaysTitleOverTheClients() {
        DefaultHttpHeaders upstream = write(
                new AttributionProperties("https://co.example", "Co", null, false),
                new Attribution("https://team-a.example", null, null));
        assertThat(upstream.get("HTTP-Referer")).isEqualTo("https://team-a.example");
        assertThat(upstream.get("X-Title")).as("not the client's 'Client App'").isEqualTo("Co");
        assertThat(upstream.get("X-OpenRouter-Title")).isEqualTo("Co");
    }
}
