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
        upstream.whenGet("/models", FakeUpstream.json(200, LIST, Map.of()));
        String openai = keyWith("{\"name\":\"openai\",\"models\":[\"openai/*\"]}");
        String everything = keyWith("{\"name\":\"all\"}");

        List<String> ids =
                sdk(openai).models().list().data().stream().map(Model::id).toList();
        assertThat(ids).containsExactly("openai/gpt-5-nano", "openai/gpt-5");
        // The usage pricing fetches the list too: count only what the following listings add.
        int fetched = modelListRequests().size();
        FakeUpstream.Received received = modelListRequests().get(fetched - 1);
        assertThat(received.header("Authorization")).isEqualTo("Bearer " + TestGateway.UPSTREAM_KEY);

        assertThat(sdk(everything).models().list().data()).hasSize(3);

        // OpenRouter's path, raw: every field of an entry is kept as the upstream sent it.
        String body = get("/api/v1/models", openai).body();
        JsonNode list = AdminApi.JSON.readTree(body);
        assertThat(list.get("object").asString()).isEqualTo("list");
        assertThat(list.get("data").get(0).get("pricing").get("prompt").asString())
                .isEqualTo("0.00000005");
        assertThat(list.get("data").get(0).get("context_length").asLong()).isEqualTo(400000);
        assertThat(modelListRequests()).as("later listings come from the cache").hasSize(fetched);
    }

    @Test
    void oneModelIsRetrievedByItsIdWhenTheKeyMayUseIt() {
        upstream.whenGet("/models", FakeUpstream.json(200, LIST, Map.of()));
        String openai = keyWith("{\"name\":\"retrieve\",\"models\":[\"openai/*\"]}");

        // The official SDK's models().retrieve(), with an id that holds a slash.
        Model model = sdk(openai).models().retrieve("openai/gpt-5-nano");
        assertThat(model.id()).isEqualTo("openai/gpt-5-nano");
        assertThat(model.ownedBy()).isEqualTo("openai");

        // OpenRouter's path, raw: the entry as the upstream listed it.
        String body = get("/api/v1/models/openai/gpt-5-nano", openai).body();
        assertThat(AdminApi.JSON.readTree(body).get("context_length").asLong()).isEqualTo(400000);

        // Listed upstream but not this key's, or not listed at all: the same 404, OpenAI-shaped.
        for (String path : List.of("/v1/models/anthropic/claude-3.5-haiku", "/v1/models/openai/gpt-9")) {
            java.net.http.HttpResponse<String> missing = get(path, openai);
            assertThat(missing.statusCode()).as(path).isEqualTo(404);
            assertThat(AdminApi.JSON
                            .readTree(missing.body())
                            .get("error")
                            .get("code")
                            .asString())
                    .isEqualTo("model_not_found");
        }
        assertThat(get("/v1/models/openai/gpt-5-nano", "sk-gw-not-a-key").statusCode())
                .isEqualTo(401);
    }

    /** A new key's secret. */
    private static String keyWith(String json) {
        return new AdminApi(gateway.gateway(), ADMIN_KEY)
                .createKey(json)
                .get("key")
                .asString();
    }

    private static java.net.http.HttpResponse<String> get(String path, String key) {
        return gateway.gateway()
                .send(HttpRequest.newBuilder(gateway.gateway().uri(path))
                        .header("Authorization", "Bearer " + key)
                        .GET()
                        .build());
    }

    private static List<FakeUpstream.Received> modelListRequests() {
        return upstream.requests().stream()
                .filter(request ->
                        request.method().equals("GET") && request.path().equals("/api/v1/models"))
                .toList();
    }
}
