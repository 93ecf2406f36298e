package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FakeUpstreamInitializer;
import io.switchboard.testing.GatewayIntegrationTest;
import io.switchboard.testing.LedgerRows;
import io.switchboard.testing.RawHttp;
import io.switchboard.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Every documented error status, OpenAI-shaped, with a request id and no secret in it. */
@GatewayIntegrationTest
class ErrorStatusIT {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @LocalServerPort
    int port;

    FakeUpstream upstream = FakeUpstreamInitializer.shared();
    TestGateway gateway;

    @BeforeEach
    void setUp() {
        upstream.reset();
        gateway = new TestGateway(port);
    }

    static Stream<Arguments> badBodies() {
        return Stream.of(
                Arguments.of("{\"model\":\"openai/gpt-5-nano\",", "invalid_json"),
                Arguments.of("[1,2,3]", "invalid_json"),
                Arguments.of("\"just a string\"", "invalid_json"),
                Arguments.of("", "invalid_json"),
                Arguments.of("{\"model\":\"a\",\"model\":\"b\"}", "invalid_request"),
                Arguments.of("{\"model\":\"openai/gpt-5-nano\",\"stream\":\"true\"}", "invalid_request"),
                Arguments.of("{\"model\":42}", "invalid_request"),
                Arguments.of("{\"model\":\"openai/gpt-5-nano\",\"max_tokens\":-5}", "invalid_request"),
                Arguments.of("{\"model\":\"openai/gpt-5-nano\"} {\"model\":\"x\"}", "invalid_json"),
                Arguments.of("{\"messages\":[]}", "model_required"),
                Arguments.of("{\"model\":\"bad\\nname\"}", "invalid_request"),
                Arguments.of(
                        "{\"model\":\"openai/gpt-5-nano\",\"x\":" + "[".repeat(200) + "]".repeat(200) + "}",
                        "invalid_json"));
    }

    @ParameterizedTest
    @MethodSource("badBodies")
    void malformedBodiesAre400AndNeverReachTheUpstream(String body, String code) {
        HttpResponse<String> response = gateway.postJson("/v1/chat/completions", body);
        assertThat(response.statusCode()).isEqualTo(400);
        assertOpenAiError(response.body(), code);
        assertThat(upstream.requestCount()).isZero();
    }

    @Test
    void declaredBodyOverTheLimitIs413WithoutReadingIt() {
        String response = RawHttp.exchange(
                port,
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestGateway.clientKey
                        + "\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{\"model\":");
        assertThat(RawHttp.status(response)).isEqualTo(413);
        assertThat(response).contains("\"code\":\"request_too_large\"");
    }

    @Test
    void chunkedBodyOverTheLimitIs413() {
        String big = "{\"model\":\"openai/gpt-5-nano\",\"pad\":\"" + "x".repeat(1_200_000) + "\"}";
        HttpResponse<String> response = gateway.send(gateway.request("/v1/chat/completions")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofString(big)))
                .build());
        assertThat(response.statusCode()).isEqualTo(413);
        assertOpenAiError(response.body(), "request_too_large");
        assertThat(upstream.requestCount()).isZero();
    }

    @Test
    void unknownPathIs404AndWrongMethodIs405() {
        HttpResponse<String> notFound =
                gateway.send(gateway.request("/v1/nope").GET().build());
        assertThat(notFound.statusCode()).isEqualTo(404);
        assertOpenAiError(notFound.body(), "not_found");
        HttpResponse<String> wrongMethod =
                gateway.send(gateway.request("/v1/chat/completions").GET().build());
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertOpenAiError(wrongMethod.body(), "method_not_allowed");
        HttpResponse<String> wrongModels =
                gateway.send(gateway.request("/api/v1/models").DELETE().build());
        assertThat(wrongModels.statusCode()).isEqualTo(405);
        HttpResponse<String> deleteOneModel = gateway.send(
                gateway.request("/v1/models/openai/gpt-5-nano").DELETE().build());
        assertThat(deleteOneModel.statusCode()).isEqualTo(405);
        assertOpenAiError(deleteOneModel.body(), "method_not_allowed");
    }

    /**
     * The relayed endpoints are matched exactly (ProxyDispatch's string comparison and the routes
     * behind it agree): a path that only resembles one is 404 and never reaches the upstream.
     */
    @ParameterizedTest
    @MethodSource("nearMissPaths")
    void pathsThatOnlyResembleAnEndpointAre404(String path) {
        HttpResponse<String> response = gateway.postJson(path, "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}");
        assertThat(response.statusCode()).isEqualTo(404);
        assertOpenAiError(response.body(), "not_found");
        assertThat(upstream.requestCount()).isZero();
    }

    static Stream<String> nearMissPaths() {
        return Stream.of(
                "/v1/chat/completions/",
                "/v1/chat/completions/x",
                "/v1/Chat/completions",
                "/v2/chat/completions",
                "/api/v1/embeddings/");
    }

    @Test
    void upstreamRedirectIsNotFollowed() {
        upstream.enqueue(FakeUpstream.raw(302, null, "", Map.of("Location", "http://169.254.169.254/latest")));
        HttpResponse<String> response =
                gateway.postJson("/v1/chat/completions", "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}");
        assertThat(response.statusCode()).isEqualTo(502);
        assertThat(response.headers().firstValue("Location")).isEmpty();
        assertThat(upstream.requestCount()).isEqualTo(1);
    }

    /**
     * A status HTTP does not have (a broken or hostile upstream): a 502 like any other answer that
     * is not HTTP, not the 500 of a status the server cannot write (with its body left unreleased).
     */
    @ParameterizedTest
    @ValueSource(ints = {1000, 600, 199})
    void anUpstreamStatusOutsideHttpsRangeIs502(int status) {
        upstream.enqueue(FakeUpstream.json(status, "{\"error\":{\"message\":\"odd\"}}", Map.of()));
        HttpResponse<String> response =
                gateway.postJson("/v1/chat/completions", "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}");
        assertThat(response.statusCode()).isEqualTo(502);
        assertOpenAiError(response.body(), "upstream_error");
    }

    /**
     * Headers, then a reset before the first byte of the body: nothing was sent to the client yet,
     * so it gets a 502 with an OpenAI-shaped body, not the 500 of an unhandled error; and its ledger
     * row says 502 too (it said the upstream's 200).
     */
    @Test
    void upstreamResetBeforeTheFirstByteOfABodyIs502() {
        upstream.enqueue(
                FakeUpstream.streamed(200, "application/json", Map.of(), List.of(FakeUpstream.resetConnection())));
        HttpResponse<String> response =
                gateway.postJson("/v1/chat/completions", "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}");
        assertThat(response.statusCode()).isEqualTo(502);
        assertOpenAiError(response.body(), "upstream_error");
        String requestId = response.headers().firstValue("X-Request-Id").orElseThrow();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !LedgerRows.of(gateway, TestGateway.ADMIN_KEY, requestId)
                        .isEmpty());
        JsonNode row = LedgerRows.of(gateway, TestGateway.ADMIN_KEY, requestId).get(0);
        assertThat(row.get("status").asInt()).as(row.toString()).isEqualTo(502);
    }

    /**
     * The gateway resends a request only when its connection closed before the request was written
     * out whole (UpstreamAttempt). One the upstream received whole is never sent again, even when the
     * upstream then drops the connection without a word: it may already be generating, and billing.
     */
    @Test
    void aRequestTheUpstreamReceivedWholeIsNotResentWhenItDropsTheConnection() {
        upstream.enqueue(FakeUpstream.dropConnection());
        HttpResponse<String> response =
                gateway.postJson("/v1/chat/completions", "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}");
        assertThat(response.statusCode()).isEqualTo(502);
        assertOpenAiError(response.body(), "upstream_error");
        assertThat(upstream.requestCount()).isEqualTo(1);
    }

    static void assertOpenAiError(String body, String code) {
        JsonNode error = JSON.readTree(body).get("error");
        assertThat(error).as(body).isNotNull();
        assertThat(error.get("message").asString()).isNotBlank();
        assertThat(error.get("type").asString()).isNotBlank();
        assertThat(error.get("code").asString()).isEqualTo(code);
        assertThat(error.get("request_id").asString()).isNotBlank();
        assertThat(body).doesNotContain(TestGateway.UPSTREAM_KEY).doesNotContain("Exception");
    }
}
