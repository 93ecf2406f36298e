package io.switchboard.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.exchange.ProxyEndpoint;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProviderTest {

    private static ProviderRegistry registry(String baseUrl) {
        return new ProviderRegistry(Map.of("up", TestProviders.properties(baseUrl, null, null)));
    }

    @Test
    void endpointUriKeepsTheBasePathWithOrWithoutItsTrailingSlash() {
        for (String base : List.of("https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1/")) {
            try (ProviderRegistry registry = registry(base)) {
                URI uri = registry.primary().uriOf(ProxyEndpoint.CHAT_COMPLETIONS);
                assertThat(uri).as(base).isEqualTo(URI.create("https://openrouter.ai/api/v1/chat/completions"));
                assertThat(uri.getPort()).isEqualTo(-1);
            }
        }
    }

    @Test
    void everyEndpointHasItsOwnUriWithThePortKept() {
        try (ProviderRegistry registry = registry("http://127.0.0.1:8089")) {
            Provider provider = registry.primary();
            for (ProxyEndpoint endpoint : ProxyEndpoint.values()) {
                URI uri = provider.uriOf(endpoint);
                assertThat(uri)
                        .as(endpoint.name())
                        .isEqualTo(URI.create("http://127.0.0.1:8089" + endpoint.upstreamPath()));
                assertThat(uri.toString()).isEqualTo(provider.uriFor(endpoint.upstreamPath()));
            }
        }
    }
}
