package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.models.Model;
import io.switchboard.testing.AdminApi;
import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.GatewayInstance;
import io.switchboard.testing.TestGateway;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** {@code GET /v1/models}: the upstream's list, fetched once with the provider's credential, cut per key. */
class ModelListIT {

    private static final String ADMIN_KEY = "model-list-it-admin";
    private static final String LIST = "{\"object\":\"list\",\"data\":["
            + "{\"id\":\"openai/gpt-5-nano\",\"object\":\"model\",\"created\":1,\"owned_by\":\"openai\","
            + "\"context_length\":400000,\"pricing\":{\"prompt\":\"0.00000005\"}},"
            + "{\"id\":\"openai/gpt-5\",\"object\":\"model\",\"created\":2,\"owned_by\":\"openai\"},"
            + "{\"id\":\"anthropic/claude-3.5-haiku\",\"object\":\"model\",\"created\":3,\"owned_by\":\"anthropic\"}]}";

    @TempDir
    static Path storage;

    static FakeUpstream upstream;
    static GatewayInstance gateway;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        gateway = GatewayInstance.start(Map.of(
                "gateway.storage.path",
                storage.toString(),
                "gateway.admin.key",
                ADMIN_KEY,
                "gateway.providers.openrouter.base-url",
                upstream.baseUrl(),
                "gateway.providers.openrouter.api-key",
                TestGateway.UPSTREAM_KEY));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private static OpenAIClient sdk(String key) {
        return OpenAIOkHttpClient.builder()
                .baseUrl(gateway.gateway().baseUrl())
                .apiKey(key)
                .maxRetries(0)
                .timeout(Duration.ofSeconds(20))
                .build();
    }

    @Test
    void eachKeySeesOnlyItsModelsFromOneCachedUpstreamList() {
        upstream.enqueue(FakeUpstream.json(200, LIST, Map.of()));
        AdminApi admin = new AdminApi(gateway.gateway(), ADMIN_KEY);
        String openai = admin.createKey("{\"name\":\"openai\",\"models\":[\"openai/*\"]}")
                .get("key")
                .asString();
        String everything = admin.createKey("{\"name\":\"all\"}").get("key").asString();

        List<String> ids =
                sdk(openai).models().list().data().stream().map(Model::id).toList();
        assertThat(ids).containsExactly("openai/gpt-5-nano", "openai/gpt-5");
        FakeUpstream.Received received = upstream.takeRequest();
        assertThat(received.path()).isEqualTo("/api/v1/models");
        assertThat(received.header("Authorization")).isEqualTo("Bearer " + TestGateway.UPSTREAM_KEY);

        assertThat(sdk(everything).models().list().data()).hasSize(3);

        // OpenRouter's path, raw: every field of an entry is kept as the upstream sent it.
        String body = gateway.gateway()
                .send(HttpRequest.newBuilder(gateway.gateway().uri("/api/v1/models"))
                        .header("Authorization", "Bearer " + openai)
                        .GET()
                        .build())
                .body();
        JsonNode list = AdminApi.JSON.readTree(body);
        assertThat(list.get("object").asString()).isEqualTo("list");
        assertThat(list.get("data").get(0).get("pricing").get("prompt").asString())
                .isEqualTo("0.00000005");
        assertThat(list.get("data").get(0).get("context_length").asLong()).isEqualTo(400000);
        assertThat(upstream.requestCount()).isEqualTo(1);
    }
}
