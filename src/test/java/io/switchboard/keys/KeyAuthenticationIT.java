package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.PermissionDeniedException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.switchboard.testing.AdminApi;
import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FakeUpstreamInitializer;
import io.switchboard.testing.GatewayIntegrationTest;
import io.switchboard.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/** The data plane's door, through real HTTP and the official OpenAI Java SDK: 401 for every bad key, 403 for a model the key may not use. */
@GatewayIntegrationTest
class KeyAuthenticationIT {

    @LocalServerPort
    int port;

    FakeUpstream upstream = FakeUpstreamInitializer.shared();
    TestGateway gateway;
    AdminApi admin;

    @BeforeEach
    void setUp() {
        upstream.reset();
        gateway = new TestGateway(port);
        admin = new AdminApi(gateway, TestGateway.ADMIN_KEY);
    }

    private OpenAIClient sdk(String key) {
        return OpenAIOkHttpClient.builder()
                .baseUrl(gateway.baseUrl())
                .apiKey(key)
                .maxRetries(0)
                .timeout(Duration.ofSeconds(20))
                .build();
    }

    private static ChatCompletionCreateParams chat(String model) {
        return ChatCompletionCreateParams.builder()
                .model(model)
                .addUserMessage("Say hello")
                .build();
    }

    private HttpResponse<String> rawChat(HttpRequest.Builder request) {
        return gateway.send(request.header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"openai/gpt-5-nano\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                .build());
    }

    private static HttpRequest.Builder to(TestGateway gateway, String path) {
        return HttpRequest.newBuilder(gateway.uri(path)).timeout(Duration.ofSeconds(20));
    }

    @Test
    void issuedKeyReachesTheUpstreamWhichNeverSeesIt() {
        String key =
                admin.createKey("{\"name\":\"reaches-upstream\"}").get("key").asString();
        ChatCompletion completion = sdk(key).chat().completions().create(chat("openai/gpt-5-nano"));
        assertThat(completion.choices()).isNotEmpty();
        FakeUpstream.Received received = upstream.takeRequest();
        assertThat(received.header("Authorization")).isEqualTo("Bearer " + TestGateway.UPSTREAM_KEY);
        assertThat(received.headers().toString()).doesNotContain(key);
    }

    @Test
    void unknownRevokedExpiredAndMalformedKeysGetTheSame401FromTheSdk() {
        JsonNode revoked = admin.createKey("{\"name\":\"to-revoke\"}");
        assertThat(admin.call("DELETE", "/admin/keys/" + revoked.get("id").asString(), null)
                        .statusCode())
                .isEqualTo(200);
        JsonNode expiring = admin.createKey(
                "{\"name\":\"expiring\",\"expires_at\":\"" + Instant.now().plusSeconds(2) + "\"}");
        String expired = expiring.get("key").asString();
        await().atMost(Duration.ofSeconds(10)).until(() -> admin.probe(expired) == 401);

        List<String> refused = List.of(
                ApiKeyFormat.generate(new SecureRandom()),
                revoked.get("key").asString(),
                expired,
                "sk-gw-not-a-real-key",
                "sk-or-v1-0123456789abcdef");
        List<String> messages = new ArrayList<>();
        for (String key : refused) {
            assertThatThrownBy(() -> sdk(key).chat().completions().create(chat("openai/gpt-5-nano")))
                    .isInstanceOfSatisfying(UnauthorizedException.class, error -> {
                        assertThat(error.statusCode()).isEqualTo(401);
                        messages.add(error.getMessage());
                    });
        }
        // The SDK's message holds the whole error body: only the request id may differ.
        List<String> withoutRequestIds = messages.stream()
                .map(message -> message.replaceAll("request_id=[^,}]*", "").replaceAll("\"request_id\":\"[^\"]*\"", ""))
                .distinct()
                .toList();
        assertThat(withoutRequestIds).hasSize(1);
        assertThat(upstream.requestCount()).isZero();
    }

    @Test
    void missingKeyIs401OpenAiShaped() {
        HttpResponse<String> response = rawChat(to(gateway, "/v1/chat/completions"));
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.headers().firstValue("Content-Type"))
                .hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
        assertThat(response.body())
                .contains("\"code\":\"invalid_api_key\"")
                .contains("\"type\":\"invalid_request_error\"");
        assertThat(response.headers().firstValue("X-Request-Id")).isPresent();
        assertThat(response.headers().firstValue("Set-Cookie")).isEmpty();
    }

    @Test
    void keyInTheQueryStringOrACookieIsRefused() {
        String key = admin.createKey("{\"name\":\"query-cookie\"}").get("key").asString();
        assertThat(rawChat(to(gateway, "/v1/chat/completions?api_key=" + key)).statusCode())
                .isEqualTo(401);
        assertThat(rawChat(to(gateway, "/v1/chat/completions?key=" + key)).statusCode())
                .isEqualTo(401);
        assertThat(rawChat(to(gateway, "/v1/chat/completions").header("Cookie", "api_key=" + key))
                        .statusCode())
                .isEqualTo(401);
        assertThat(rawChat(to(gateway, "/v1/chat/completions").header("Authorization", "Basic " + key))
                        .statusCode())
                .isEqualTo(401);
        assertThat(upstream.requestCount()).isZero();
    }

    @Test
    void modelOutsideTheKeysPatternsIs403FromTheSdk() {
        String key = admin.createKey("{\"name\":\"openai-only\",\"models\":[\"openai/*\"]}")
                .get("key")
                .asString();
        assertThatThrownBy(() -> sdk(key).chat().completions().create(chat("anthropic/claude-3.5-haiku")))
                .isInstanceOfSatisfying(PermissionDeniedException.class, error -> {
                    assertThat(error.statusCode()).isEqualTo(403);
                    assertThat(error.getMessage()).contains("may not use the model 'anthropic/claude-3.5-haiku'");
                });
        assertThat(upstream.requestCount()).isZero();
        assertThat(sdk(key).chat()
                        .completions()
                        .create(chat("openai/gpt-5-nano"))
                        .choices())
                .isNotEmpty();
    }

    @Test
    void modelAllowedOnlyThroughItsAliasIsJudgedAfterRewrite() {
        // gpt-4o-mini is an alias of openai/gpt-5-nano in the test configuration.
        String openai = admin.createKey("{\"name\":\"alias-ok\",\"models\":[\"openai/*\"]}")
                .get("key")
                .asString();
        assertThat(sdk(openai).chat().completions().create(chat("gpt-4o-mini")).choices())
                .isNotEmpty();
        assertThat(upstream.takeRequest().bodyText()).contains("openai/gpt-5-nano");

        String literal = admin.createKey("{\"name\":\"alias-name-only\",\"models\":[\"gpt-4o-mini\"]}")
                .get("key")
                .asString();
        assertThatThrownBy(() -> sdk(literal).chat().completions().create(chat("gpt-4o-mini")))
                .isInstanceOf(PermissionDeniedException.class);
    }

    @Test
    void everyEntryOfTheFallbackModelsArrayMustBeAllowed() {
        String key = admin.createKey("{\"name\":\"fallbacks\",\"models\":[\"openai/*\"]}")
                .get("key")
                .asString();
        HttpResponse<String> response = gateway.send(to(gateway, "/api/v1/chat/completions")
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"openai/gpt-5-nano\","
                        + "\"models\":[\"openai/gpt-5-nano\",\"anthropic/claude-3.5-haiku\"],"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
                .build());
        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(response.body()).contains("\"code\":\"model_not_allowed\"");
        assertThat(upstream.requestCount()).isZero();
    }

    @Test
    void healthAndPrometheusAreOpenOtherActuatorEndpointsAreNot() {
        // All four on one keep-alive connection: under Reactor Netty 1.3.6 a request that followed a
        // scrape on the same connection could go unread for good (reactor-netty #4361, fixed in 1.3.8).
        HttpResponse<String> health = gateway.send(to(gateway, "/actuator/health")
                .header("Authorization", "Bearer not-a-key")
                .GET()
                .build());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body())
                .contains("\"status\":\"UP\"")
                .doesNotContain("details")
                .doesNotContain("components");
        assertThat(gateway.send(to(gateway, "/actuator/prometheus").GET().build())
                        .statusCode())
                .isEqualTo(200);
        assertThat(gateway.send(to(gateway, "/actuator/env").GET().build()).statusCode())
                .isEqualTo(401);
        assertThat(gateway.send(to(gateway, "/actuator/beans")
                                .header("Authorization", "Bearer " + TestGateway.CLIENT_KEY)
                                .GET()
                                .build())
                        .statusCode())
                .isEqualTo(403);
    }

    @Test
    void adminApiRefusesADataPlaneKeyWith403AndAnythingElseWith401() {
        HttpResponse<String> withClientKey = admin.call("GET", "/admin/keys", null, TestGateway.CLIENT_KEY);
        assertThat(withClientKey.statusCode()).isEqualTo(403);
        assertThat(withClientKey.body()).contains("\"type\":\"permission_error\"");
        assertThat(admin.call("GET", "/admin/keys", null, "wrong-admin-secret").statusCode())
                .isEqualTo(401);
        assertThat(admin.call("GET", "/admin/keys", null, ApiKeyFormat.generate(new SecureRandom()))
                        .statusCode())
                .isEqualTo(401);
        assertThat(gateway.send(to(gateway, "/admin/keys").GET().build()).statusCode())
                .isEqualTo(401);
    }
}
