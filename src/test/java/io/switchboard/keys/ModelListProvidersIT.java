package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.models.Model;
import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.GatewayInstance;
import io.switchboard.testing.TestGateway;
import io.switchboard.testing.UnansweredConnectPort;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/models} with several upstreams: every provider's models, each listed by the provider
 * the gateway routes it to, and the others' models still listed when one provider cannot answer (as
 * in the offline quick start, where OpenRouter is out of reach and the demo upstream is not).
 */
class ModelListProvidersIT {

    private static final String OPENROUTER_LIST = "{\"object\":\"list\",\"data\":["
            + "{\"id\":\"openai/gpt-5-nano\",\"object\":\"model\",\"owned_by\":\"openai\"},"
            + "{\"id\":\"local/llama-3-8b\",\"object\":\"model\",\"owned_by\":\"openrouter's copy\"}]}";
    private static final String LOCAL_LIST = "{\"object\":\"list\",\"data\":["
            + "{\"id\":\"local/llama-3-8b\",\"object\":\"model\",\"owned_by\":\"vllm\"},"
            + "{\"id\":\"unrouted-model\",\"object\":\"model\",\"owned_by\":\"vllm\"}]}";

    private FakeUpstream openrouter;
    private FakeUpstream local;

    @BeforeEach
    void startUpstreams() {
        openrouter = FakeUpstream.start();
        local = FakeUpstream.start();
        local.whenGet("/models", FakeUpstream.json(200, LOCAL_LIST, Map.of()));
    }

    @AfterEach
    void stopUpstreams() {
        openrouter.close();
        local.close();
    }

    private GatewayInstance gatewayWithBoth() {
        Map<String, String> settings = new LinkedHashMap<>(GatewayInstance.upstreamAndKeys(openrouter.baseUrl()));
        settings.put("gateway.providers.local.base-url", local.baseUrl());
        settings.put("gateway.providers.local.models[0]", "local/*");
        return GatewayInstance.start(settings);
    }

    private static List<String> listedIds(GatewayInstance gateway) {
        return listed(gateway).stream().map(Model::id).toList();
    }

    private static List<Model> listed(GatewayInstance gateway) {
        return OpenAIOkHttpClient.builder()
                .baseUrl(gateway.gateway().baseUrl())
                .apiKey(TestGateway.CLIENT_KEY)
                .maxRetries(0)
                .timeout(Duration.ofSeconds(20))
                .build()
                .models()
                .list()
                .data();
    }

    @Test
    void everyProviderListsTheModelsRoutedToIt() {
        openrouter.whenGet("/models", FakeUpstream.json(200, OPENROUTER_LIST, Map.of()));
        try (GatewayInstance gateway = gatewayWithBoth()) {
            // local/* goes to the local provider: listed once, as that provider describes it; a model
            // the local server lists but the gateway would not send there is left out.
            assertThat(listed(gateway))
                    .extracting(Model::id, Model::ownedBy)
                    .containsExactlyInAnyOrder(
                            org.assertj.core.groups.Tuple.tuple("openai/gpt-5-nano", "openai"),
                            org.assertj.core.groups.Tuple.tuple("local/llama-3-8b", "vllm"));
        }
    }

    @Test
    void aProviderThatCannotAnswerLeavesTheOthersListed() {
        openrouter.whenGet("/models", FakeUpstream.json(500, "{\"error\":{\"message\":\"down\"}}", Map.of()));
        try (GatewayInstance gateway = gatewayWithBoth()) {
            assertThat(listedIds(gateway)).containsExactly("local/llama-3-8b");
        }
    }

    /** An upstream that does not answer in time is a timeout, 504, as for the data plane: not a 502. */
    @Test
    void aModelListThatDoesNotComeInTimeIs504() {
        try (UnansweredConnectPort silent = UnansweredConnectPort.open()) {
            Map<String, String> settings = new LinkedHashMap<>(
                    GatewayInstance.upstreamAndKeys("http://127.0.0.1:" + silent.port() + "/api/v1"));
            settings.put("gateway.providers.openrouter.connect-timeout", "300ms");
            settings.put("gateway.demo.enabled", "false");
            try (GatewayInstance gateway = GatewayInstance.start(settings)) {
                HttpResponse<String> models = gateway.gateway()
                        .send(gateway.gateway().request("/v1/models").GET().build());
                assertThat(models.statusCode()).as(models.body()).isEqualTo(504);
                assertThat(models.body()).contains("\"code\":\"upstream_timeout\"");
            }
        }
    }

    @Test
    void theOfflineDemoListsItsModelsWhileOpenRouterIsOutOfReach() {
        Map<String, String> settings =
                new LinkedHashMap<>(GatewayInstance.upstreamAndKeys("http://127.0.0.1:9/api/v1"));
        settings.put("gateway.demo.enabled", "true");
        try (GatewayInstance gateway = GatewayInstance.start(settings)) {
            assertThat(listedIds(gateway)).isNotEmpty().allMatch(id -> id.startsWith("demo/"));
        }
    }
}
