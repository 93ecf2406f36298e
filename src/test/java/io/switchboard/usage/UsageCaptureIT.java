package io.switchboard.usage;

import static io.switchboard.testing.FakeUpstream.chunk;
import static io.switchboard.testing.FakeUpstream.send;
import static io.switchboard.testing.FakeUpstream.usageAndDone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FakeUpstreamInitializer;
import io.switchboard.testing.GatewayIntegrationTest;
import io.switchboard.testing.TestGateway;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Usage capture through the real relay: the gateway on a random port, the fake upstream on
 * loopback, the ledger in an H2 database read back over JDBC.
 */
@GatewayIntegrationTest
class UsageCaptureIT {

    static final LedgerDatabase LEDGER = new LedgerDatabase("usage_capture_it");

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        for (String property : LEDGER.properties()) {
            String[] pair = property.split("=", 2);
            registry.add(pair[0], () -> pair[1]);
        }
        registry.add("gateway.usage.flush-interval", () -> "50ms");
        registry.add("gateway.usage.settlement-delay", () -> "200ms");
        registry.add("gateway.usage.fetch-pricing", () -> "false");
        registry.add("gateway.usage.spill-file", () -> "target/usage-capture-it-spill.jsonl");
    }

    @LocalServerPort
    int port;

    private TestGateway gateway;
    private final FakeUpstream upstream = FakeUpstreamInitializer.shared();

    @BeforeEach
    void setUp() {
        gateway = new TestGateway(port);
        upstream.reset();
    }

    private Map<String, Object> rowOf(HttpResponse<?> response) {
        String requestId = response.headers().firstValue("X-Request-Id").orElseThrow();
        await().atMost(Duration.ofSeconds(10)).until(() -> LEDGER.row(requestId) != null);
        return LEDGER.row(requestId);
    }

    private static long number(Map<String, Object> row, String column) {
        return ((Number) row.get(column)).longValue();
    }

    @Test
    void aStreamWritesOneRowWithTheUsageTheUpstreamReported() {
        upstream.enqueue(FakeUpstream.sse(List.of(send(chunk("Hel")), send(chunk("lo")), send(usageAndDone(10, 20)))));
        HttpResponse<String> response = gateway.postJson(
                "/v1/chat/completions", "{\"model\":\"openai/gpt-5-nano\",\"stream\":true,\"messages\":[]}");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("\"usage\"");

        Map<String, Object> row = rowOf(response);
        assertThat(row.get("outcome")).isEqualTo("success");
        assertThat(row.get("stream")).isEqualTo(true);
        assertThat(number(row, "prompt_tokens")).isEqualTo(10);
        assertThat(number(row, "completion_tokens")).isEqualTo(20);
        assertThat(number(row, "total_tokens")).isEqualTo(30);
        assertThat((BigDecimal) row.get("cost_usd")).isEqualByComparingTo("0.0002");
        assertThat(row.get("generation_id")).isEqualTo("gen-fake-1");
        assertThat(row.get("upstream_provider")).isEqualTo("OpenAI");
        assertThat(row.get("estimated")).isEqualTo(false);
        assertThat(row.get("ttft_ms")).isNotNull();
    }

    /**
     * An upstream that ends its stream cleanly right after the usage event's data line, without the
     * blank line that ends an event: the event goes to the client as it came, and its usage, which
     * the upstream counted, is in the ledger rather than an estimate.
     */
    @Test
    void aUsageEventCutOffAtTheStreamsEndStillCounts() {
        String usage = "data: {\"id\":\"gen-fake-2\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
                + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34,\"total_tokens\":46}}\n";
        upstream.enqueue(FakeUpstream.sse(List.of(send(chunk("Hi")), send(usage))));
        HttpResponse<String> response = gateway.postJson(
                "/v1/chat/completions",
                "{\"model\":\"openai/gpt-5-nano\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                        + "\"messages\":[]}");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo(chunk("Hi") + usage);
        Map<String, Object> row = rowOf(response);
        assertThat(number(row, "prompt_tokens")).isEqualTo(12);
        assertThat(number(row, "completion_tokens")).isEqualTo(34);
        assertThat(row.get("estimated")).isEqualTo(false);
    }

    @Test
    void aJsonAnswerWritesItsUsage() {
        HttpResponse<String> response =
                gateway.postJson("/v1/chat/completions", "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}");
        assertThat(response.statusCode()).isEqualTo(200);
        Map<String, Object> row = rowOf(response);
        assertThat(number(row, "prompt_tokens")).isEqualTo(11);
        assertThat(number(row, "completion_tokens")).isEqualTo(7);
        assertThat(row.get("stream")).isEqualTo(false);
        assertThat(row.get("cost_source")).isEqualTo("upstream");
    }

    @Test
    void anUpstreamErrorIsAFailedRowWithoutTokens() {
        String before = scrape();
        upstream.enqueue(FakeUpstream.json(500, "{\"error\":{\"message\":\"boom\",\"code\":500}}", Map.of()));
        HttpResponse<String> response =
                gateway.postJson("/v1/chat/completions", "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}");
        assertThat(response.statusCode()).isEqualTo(500);
        Map<String, Object> row = rowOf(response);
        assertThat(row.get("outcome")).isEqualTo("upstream_error");
        assertThat(number(row, "status")).isEqualTo(500);
        assertThat(number(row, "total_tokens")).isZero();
        // An error status's JSON body is an ordinary upstream error in the metrics: 5xx, not in band.
        assertRequestCounted(before, "5xx", "false");
        assertThat(sum(scrape(), "switchboard_requests_total", "status=\"midstream_error\""))
                .isEqualTo(sum(before, "switchboard_requests_total", "status=\"midstream_error\""));
    }

    @Test
    void aNonStreamingOkAnswerCarryingAnErrorIsAFailureInTheLedgerAndTheMetrics() {
        String before = scrape();
        upstream.enqueue(FakeUpstream.json(
                200, "{\"id\":\"gen-fake-2\",\"error\":{\"message\":\"Provider failed\",\"code\":502}}", Map.of()));
        HttpResponse<String> response =
                gateway.postJson("/v1/chat/completions", "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(rowOf(response).get("outcome")).isEqualTo("midstream_error");
        assertRequestCounted(before, "midstream_error", "false");
    }

    /** Polled: the request is counted when its exchange ends, which the client's last byte may precede. */
    private void assertRequestCounted(String before, String status, String stream) {
        String[] labels = {"status=\"" + status + "\"", "stream=\"" + stream + "\""};
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(sum(scrape(), "switchboard_requests_total", labels)
                                - sum(before, "switchboard_requests_total", labels))
                        .isEqualTo(1.0));
    }

    @Test
    void anInBandErrorInsideA200StreamIsRecordedAsAMidstreamError() {
        String before = scrape();
        upstream.enqueue(
                FakeUpstream.sse(
                        List.of(
                                send(chunk("partial")),
                                send(
                                        "data: {\"id\":\"gen-fake-1\",\"error\":{\"code\":502,\"message\":\"Provider disconnected\"},"
                                                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}\n\n"))));
        HttpResponse<String> response = gateway.postJson(
                "/v1/chat/completions", "{\"model\":\"openai/gpt-5-nano\",\"stream\":true,\"messages\":[]}");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(rowOf(response).get("outcome")).isEqualTo("midstream_error");
        // The metrics count it as failed too, not as one more 2xx.
        // (Counted when the exchange ends, which the client's last byte may precede: polled.)
        String[] stream = {"stream=\"true\""};
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(
                                sum(scrape(), "switchboard_requests_total", "status=\"midstream_error\"", stream[0]))
                        .isGreaterThan(
                                sum(before, "switchboard_requests_total", "status=\"midstream_error\"", stream[0])));
        String after = scrape();
        assertThat(sum(after, "switchboard_requests_total", "status=\"midstream_error\"", stream[0])
                        - sum(before, "switchboard_requests_total", "status=\"midstream_error\"", stream[0]))
                .isEqualTo(1.0);
        assertThat(sum(after, "switchboard_requests_total", "status=\"2xx\"", stream[0]))
                .isEqualTo(sum(before, "switchboard_requests_total", "status=\"2xx\"", stream[0]));
        assertThat(sum(after, "switchboard_upstream_errors_total", "reason=\"midstream_error\"")
                        - sum(before, "switchboard_upstream_errors_total", "reason=\"midstream_error\""))
                .isEqualTo(1.0);
    }

    @Test
    void theUsageEventTheGatewayAskedForNeverReachesAClientThatDidNotAsk() {
        String usageOnly = "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"model\":\"strict/m\","
                + "\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6,\"total_tokens\":11}}\n\n";
        upstream.enqueue(FakeUpstream.sse(List.of(send(chunk("hi")), send(usageOnly), send("data: [DONE]\n\n"))));
        HttpResponse<String> response =
                gateway.postJson("/v1/chat/completions", "{\"model\":\"strict/m\",\"stream\":true,\"messages\":[]}");
        assertThat(upstream.takeRequest().bodyText()).contains("\"include_usage\":true");
        assertThat(response.body()).contains("\"hi\"").contains("[DONE]").doesNotContain("\"usage\"");
        Map<String, Object> row = rowOf(response);
        assertThat(number(row, "prompt_tokens")).isEqualTo(5);
        assertThat(number(row, "completion_tokens")).isEqualTo(6);

        upstream.enqueue(FakeUpstream.sse(List.of(send(chunk("hi")), send(usageOnly), send("data: [DONE]\n\n"))));
        HttpResponse<String> asked = gateway.postJson(
                "/v1/chat/completions",
                "{\"model\":\"strict/m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[]}");
        assertThat(asked.body()).contains("\"usage\"");
    }

    @Test
    void aClientThatLeavesMidStreamGetsAnEstimatedRowThatSettlementCorrects() throws Exception {
        streamWithoutEnd("gen-left-1");
        upstream.whenGet(
                "/generation",
                FakeUpstream.json(
                        200,
                        // The native counts are the ones a response's own usage reports (OpenRouter's
                        // usage accounting); the normalized ones differ.
                        "{\"data\":{\"id\":\"gen-left-1\",\"tokens_prompt\":7,\"tokens_completion\":40,"
                                + "\"native_tokens_prompt\":9,\"native_tokens_completion\":42,"
                                + "\"native_tokens_reasoning\":3,\"total_cost\":0.0042}}",
                        Map.of()));
        String before = scrape();
        String requestId = UsageFixtures.leaveMidStream(gateway);
        // The gateway notices the client has gone on its next write; generous for a loaded machine.
        await().atMost(Duration.ofSeconds(30)).until(() -> LEDGER.row(requestId) != null);
        Map<String, Object> first = LEDGER.row(requestId);
        assertThat(first.get("outcome")).isEqualTo("client_closed");
        // The metrics agree with the ledger: a hang-up, not a gateway failure.
        assertRequestCounted(before, "client_closed", "true");
        assertThat(sum(scrape(), "switchboard_requests_total", "status=\"5xx\"")
                        - sum(before, "switchboard_requests_total", "status=\"5xx\""))
                .isZero();
        assertThat(number(first, "completion_tokens")).isPositive();

        await().atMost(Duration.ofSeconds(10))
                .until(() -> "settled".equals(LEDGER.row(requestId).get("cost_source")));
        Map<String, Object> settled = LEDGER.row(requestId);
        assertThat(settled.get("outcome")).isEqualTo("client_closed");
        assertThat(settled.get("estimated")).isEqualTo(false);
        assertThat(number(settled, "prompt_tokens")).isEqualTo(9);
        assertThat(number(settled, "completion_tokens")).isEqualTo(42);
        assertThat(number(settled, "reasoning_tokens")).isEqualTo(3);
        assertThat((BigDecimal) settled.get("cost_usd")).isEqualByComparingTo("0.0042");
        FakeUpstream.Received lookup = lookups("gen-left-1").get(0);
        assertThat(lookup.method()).isEqualTo("GET");
        assertThat(lookup.header("Authorization")).isEqualTo("Bearer " + TestGateway.UPSTREAM_KEY);
    }

    @Test
    void settlementKeepsAskingWhileTheGenerationIsNotFoundYet() throws Exception {
        // OpenRouter answers 404 for a generation still running (a provider that keeps generating
        // after the client left): four look-ups over half a minute once gave up for good.
        streamWithoutEnd("gen-late-1");
        upstream.whenGet(
                "/generation",
                FakeUpstream.json(404, "{\"error\":{\"message\":\"not found\",\"code\":404}}", Map.of()));
        String requestId = UsageFixtures.leaveMidStream(gateway);
        await().atMost(Duration.ofSeconds(30)).until(() -> LEDGER.row(requestId) != null);

        await().atMost(Duration.ofSeconds(30)).until(() -> lookups("gen-late-1").size() >= 5);
        upstream.whenGet(
                "/generation",
                FakeUpstream.json(
                        200,
                        "{\"data\":{\"id\":\"gen-late-1\",\"native_tokens_prompt\":9,"
                                + "\"native_tokens_completion\":420,\"total_cost\":0.042}}",
                        Map.of()));

        await().atMost(Duration.ofSeconds(30))
                .until(() -> "settled".equals(LEDGER.row(requestId).get("cost_source")));
        assertThat(number(LEDGER.row(requestId), "completion_tokens")).isEqualTo(420);
    }

    /** The upstream's next answer: a stream of generation {@code generationId} that never ends. */
    private void streamWithoutEnd(String generationId) {
        upstream.enqueue(FakeUpstream.sse(
                Map.of("X-Generation-Id", generationId),
                List.of(FakeUpstream.endless(Duration.ofMillis(20), i -> chunk("t" + i)))));
    }

    /** The generation look-ups the upstream received for {@code generationId}, in order. */
    private List<FakeUpstream.Received> lookups(String generationId) {
        return upstream.requests().stream()
                .filter(r -> r.path().equals("/api/v1/generation?id=" + generationId))
                .toList();
    }

    @Test
    void prometheusShowsTheRequestsTokensAndCostOfKnownTraffic() {
        String before = scrape();
        for (int i = 0; i < 3; i++) {
            upstream.enqueue(FakeUpstream.sse(List.of(send(chunk("x")), send(usageAndDone(100, 50)))));
            assertThat(gateway.postJson(
                                    "/v1/chat/completions",
                                    "{\"model\":\"metrics/model-a\",\"stream\":true,\"messages\":[]}")
                            .statusCode())
                    .isEqualTo(200);
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            String after = scrape();
            // Whatever the key is called (anonymous until key management is configured).
            String model = "model=\"metrics/model-a\"";
            String ok = "status=\"2xx\"";
            assertThat(sum(after, "switchboard_requests_total", model, ok, "stream=\"true\"")
                            - sum(before, "switchboard_requests_total", model, ok, "stream=\"true\""))
                    .isEqualTo(3);
            assertThat(sum(after, "switchboard_request_duration_seconds_count", model, ok))
                    .isEqualTo(3);
            assertThat(sum(after, "switchboard_request_duration_seconds_bucket", model, ok, "le=\"+Inf\""))
                    .isEqualTo(3);
            assertThat(sum(after, "switchboard_tokens_total", model, "type=\"prompt\""))
                    .isEqualTo(300);
            assertThat(sum(after, "switchboard_tokens_total", model, "type=\"completion\""))
                    .isEqualTo(150);
            assertThat(sum(after, "switchboard_cost_usd_total", model))
                    .isCloseTo(0.0006, org.assertj.core.data.Offset.offset(1e-9));
            assertThat(sum(after, "switchboard_time_to_first_token_seconds_count", model))
                    .isEqualTo(3);
            assertThat(after).contains("switchboard_active_streams 0.0");
            assertThat(after).contains("switchboard_usage_queue_depth");
        });
    }

    @Test
    void adminUsageReportsTheTrafficPerModel() {
        for (int i = 0; i < 2; i++) {
            upstream.enqueue(FakeUpstream.chatCompletion("ok", 4, 6));
            gateway.postJson("/v1/chat/completions", "{\"model\":\"report/model-b\",\"messages\":[]}");
        }
        await().atMost(Duration.ofSeconds(5))
                .until(() -> LEDGER.count("SELECT COUNT(*) FROM usage WHERE model = 'report/model-b'") == 2);
        HttpResponse<String> report = gateway.send(gateway.request("/admin/usage?model=report/model-b&group_by=model")
                .setHeader("Authorization", "Bearer " + TestGateway.ADMIN_KEY)
                .GET()
                .build());
        assertThat(report.statusCode()).isEqualTo(200);
        assertThat(report.body())
                .contains("\"group\":\"report/model-b\"")
                .contains("\"requests\":2")
                .contains("\"prompt_tokens\":8")
                .contains("\"completion_tokens\":12")
                .contains("\"p50_latency_ms\":")
                .as("no stream in the group: no time to first token, as null")
                .contains("\"p50_ttft_ms\":null", "\"p95_ttft_ms\":null");
        HttpResponse<String> csv = gateway.send(gateway.request("/admin/usage/export.csv?model=report/model-b")
                .setHeader("Authorization", "Bearer " + TestGateway.ADMIN_KEY)
                .GET()
                .build());
        assertThat(csv.body().split("\r\n")).hasSize(3);
    }

    private String scrape() {
        return gateway.send(gateway.request("/actuator/prometheus").GET().build())
                .body();
    }

    /** The sum of the samples of {@code metric} whose labels contain every fragment. */
    private static double sum(String scrape, String metric, String... fragments) {
        double total = 0;
        Matcher m = Pattern.compile("^" + Pattern.quote(metric) + "\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE)
                .matcher(scrape);
        while (m.find()) {
            String labels = m.group(1);
            if (java.util.Arrays.stream(fragments).allMatch(labels::contains)) {
                total += Double.parseDouble(m.group(2));
            }
        }
        return total;
    }
}
