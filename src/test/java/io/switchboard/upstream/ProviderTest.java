package io.switchboard.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProviderTest {

    private static ProviderRegistry registry(String baseUrl) {
        return new ProviderRegistry(Map.of("up", TestProviders.properties(baseUrl, null, null)));
    }

    @Test
    void operationUriKeepsTheBasePathWithOrWithoutItsTrailingSlash() {
        for (String base : List.of("https://openrouter.ai/api/v1", "https://openrouter.ai/api/v1/")) {
            try (ProviderRegistry registry = registry(base)) {
                URI uri = registry.primary().operationUri("/chat/completions");
                assertThat(uri).as(base).isEqualTo(URI.create("https://openrouter.ai/api/v1/chat/completions"));
                assertThat(uri.getPort()).isEqualTo(-1);
            }
        }
    }

    @Test
    void operationUriKeepsThePortAndAnswersEachOperationWithItsOwnPath() {
        try (ProviderRegistry registry = registry("http://127.0.0.1:8089")) {
            Provider provider = registry.primary();
            assertThat(provider.operationUri("/embeddings")).isEqualTo(URI.create("http://127.0.0.1:8089/embeddings"));
            assertThat(provider.operationUri("/models")).isEqualTo(URI.create("http://127.0.0.1:8089/models"));
            assertThat(provider.operationUri("/embeddings").getPort()).isEqualTo(8089);
            assertThat(provider.operationUri("/models").toString()).isEqualTo(provider.uriFor("/models"));
        }
    }
}
