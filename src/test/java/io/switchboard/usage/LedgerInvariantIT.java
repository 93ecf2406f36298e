package io.switchboard.usage;

import static io.switchboard.testing.FakeUpstream.chunk;
import static io.switchboard.testing.FakeUpstream.pause;
import static io.switchboard.testing.FakeUpstream.send;
import static io.switchboard.testing.FakeUpstream.usageAndDone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.keys.ApiKeyFormat;
import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.GatewayInstance;
import io.switchboard.testing.TestGateway;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The ledger's invariant: after requests of every kind and a graceful shutdown, exactly one row per
 * request that reached the proxy, and token sums equal to what the upstream reported.
 */
class LedgerInvariantIT {

    private static final String STREAM = "{\"model\":\"openai/gpt-5-nano\",\"stream\":true,\"messages\":[]}";
    private static final String JSON = "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}";

    @Test
    void everyRequestThatReachedTheProxyHasExactlyOneRowAfterAGracefulShutdown() throws Exception {
        String database = "invariant_" + UUID.randomUUID().toString().replace("-", "");
        LedgerDatabase ledger = new LedgerDatabase(database);
        try (FakeUpstream upstream = FakeUpstream.start()) {
            GatewayInstance gateway = GatewayInstance.replica(
                    upstream.baseUrl(),
                    database,
                    "gateway.ratelimit.defaults.rpm=13",
                    "gateway.usage.settlement-delay=100ms");
            TestGateway client = gateway.gateway();
            try {
                long reportedPrompt = 0;
                long reportedCompletion = 0;
                for (int i = 0; i < 4; i++) {
                    upstream.enqueue(FakeUpstream.sse(List.of(send(chunk("a")), send(usageAndDone(10 + i, 20 + i)))));
                    assertThat(client.postJson("/v1/chat/completions", STREAM).statusCode())
                            .isEqualTo(200);
                    reportedPrompt += 10 + i;
                    reportedCompletion += 20 + i;
                }
                for (int i = 0; i < 3; i++) {
                    assertThat(client.postJson("/v1/chat/completions", JSON).statusCode())
                            .isEqualTo(200);
                    reportedPrompt += 11;
                    reportedCompletion += 7;
                }
                for (int i = 0; i < 2; i++) {
                    upstream.enqueue(
                            FakeUpstream.json(503, "{\"error\":{\"message\":\"busy\",\"code\":503}}", Map.of()));
                    assertThat(client.postJson("/v1/chat/completions", JSON).statusCode())
                            .isEqualTo(503);
                }
                for (int i = 0; i < 2; i++) {
                    upstream.enqueue(FakeUpstream.sse(
                            Map.of("X-Generation-Id", "gen-left-" + i),
                            List.of(FakeUpstream.endless(Duration.ofMillis(20), n -> chunk("t" + n)))));
                    upstream.whenGet(
                            "/generation",
                            FakeUpstream.json(
                                    200,
                                    "{\"data\":{\"id\":\"gen-left-" + i
                                            + "\",\"tokens_prompt\":9,\"tokens_completion\":42,"
                                            + "\"total_cost\":0.001}}",
                                    Map.of()));
                    leaveAfterFirstBytes(client);
                    // Wait for the settlement look-up of this request before the next one.
                    String lookup = "/api/v1/generation?id=gen-left-" + i;
                    await().atMost(Duration.ofSeconds(20))
                            .until(() -> upstream.requests().stream()
                                    .anyMatch(r -> r.path().equals(lookup)));
                    reportedPrompt += 9;
                    reportedCompletion += 42;
                }
                assertThat(client.postJson("/v1/chat/completions", JSON).statusCode())
                        .isEqualTo(200);
                reportedPrompt += 11;
                reportedCompletion += 7;

                // The 13th request is still streaming when the shutdown starts.
                int before = upstream.requestCount();
                upstream.enqueue(FakeUpstream.sse(
                        List.of(send(chunk("slow")), pause(Duration.ofMillis(1500)), send(usageAndDone(5, 6)))));
                CompletableFuture<HttpResponse<String>> inFlight = client.http()
                        .sendAsync(
                                client.request("/v1/chat/completions")
                                        .header("Content-Type", "application/json")
                                        .POST(HttpRequest.BodyPublishers.ofString(STREAM))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                await().atMost(Duration.ofSeconds(20)).until(() -> upstream.requestCount() == before + 1);
                reportedPrompt += 5;
                reportedCompletion += 6;

                // Refused by authentication (an unknown key, a malformed one, another scheme): no row.
                for (String wrong : List.of(
                        ApiKeyFormat.generate(new SecureRandom()), "sk-gw-not-a-real-key", "Basic dXNlcjpwYXNz")) {
                    HttpResponse<String> refused = client.http()
                            .send(
                                    client.request("/v1/chat/completions")
                                            .setHeader(
                                                    "Authorization",
                                                    wrong.startsWith("Basic") ? wrong : "Bearer " + wrong)
                                            .header("Content-Type", "application/json")
                                            .POST(HttpRequest.BodyPublishers.ofString(JSON))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString());
                    assertThat(refused.statusCode()).isEqualTo(401);
                }

                // Past the limit: refused before the proxy, so no row.
                assertThat(client.postJson("/v1/chat/completions", JSON).statusCode())
                        .isEqualTo(429);
                assertThat(client.postJson("/v1/chat/completions", JSON).statusCode())
                        .isEqualTo(429);

                await().atMost(Duration.ofSeconds(20))
                        .until(() -> ledger.count("SELECT COUNT(*) FROM usage WHERE cost_source = 'settled'") == 2);

                gateway.close();
                HttpResponse<String> last = inFlight.get();
                assertThat(last.statusCode()).isEqualTo(200);
                assertThat(last.body()).contains("[DONE]");

                assertThat(ledger.count("SELECT COUNT(*) FROM usage")).isEqualTo(13);
                assertThat(ledger.count("SELECT COUNT(DISTINCT request_id) FROM usage"))
                        .isEqualTo(13);
                assertThat(ledger.count("SELECT SUM(prompt_tokens) FROM usage")).isEqualTo(reportedPrompt);
                assertThat(ledger.count("SELECT SUM(completion_tokens) FROM usage"))
                        .isEqualTo(reportedCompletion);
                assertThat(ledger.count("SELECT COUNT(*) FROM usage WHERE outcome = 'upstream_error'"))
                        .isEqualTo(2);
                assertThat(ledger.count("SELECT COUNT(*) FROM usage WHERE outcome = 'client_closed'"))
                        .isEqualTo(2);
                assertThat(ledger.count("SELECT COUNT(*) FROM usage WHERE outcome = 'success'"))
                        .isEqualTo(9);
                assertThat(ledger.count("SELECT COUNT(*) FROM usage WHERE estimated"))
                        .isZero();
            } finally {
                gateway.close();
            }
        }
    }

    private static void leaveAfterFirstBytes(TestGateway client) throws Exception {
        HttpResponse<InputStream> response = client.http()
                .send(
                        client.request("/v1/chat/completions")
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(STREAM))
                                .build(),
                        HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            body.readNBytes(200);
        }
    }
}
