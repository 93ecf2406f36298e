package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FakeUpstreamInitializer;
import io.switchboard.testing.GatewayIntegrationTest;
import io.switchboard.testing.RawHttp;
import io.switchboard.testing.TestGateway;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/** What the upstream receives: the rewritten model, the body otherwise untouched, and safe headers. */
@GatewayIntegrationTest
class RequestForwardingIT {

    /** OpenRouter's own sample request (text and image parts, streaming) plus fields we do not know. */
    private static final String SAMPLE = "{\n  \"model\" : \"gpt-4o-mini\",\n"
            + "  \"messages\": [{\"role\": \"user\", \"content\": [\n"
            + "    {\"type\": \"text\", \"text\": \"What is in this image? \\u00e9t\u00e9 \\\"quoted\\\"\"},\n"
            + "    {\"type\": \"image_url\", \"image_url\": {\"url\": \"https://live.staticflickr.com/3851/14825276609_098cac593d_b.jpg\"}}\n"
            + "  ]}],\n"
            + "  \"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}}],\n"
            + "  \"response_format\": {\"type\":\"json_object\"}, \"provider\": {\"order\": [\"OpenAI\"]},\n"
            + "  \"transforms\": [\"middle-out\"], \"usage\": {\"include\": true}, \"x_unknown\": [1.50, 2e10, null],\n"
            + "  \"models\": [\"gpt-4o-mini\", \"anthropic/claude-3.5-haiku\"], \"temperature\": 0.7\n}";

    @LocalServerPort
    int port;

    FakeUpstream upstream = FakeUpstreamInitializer.shared();
    TestGateway gateway;

    @BeforeEach
    void setUp() {
        upstream.reset();
        gateway = new TestGateway(port);
    }

    @Test
    void aliasIsRewrittenAndEveryOtherByteReachesTheUpstreamUnchanged() {
        HttpResponse<String> response = gateway.postJson("/v1/chat/completions", SAMPLE);
        assertThat(response.statusCode()).isEqualTo(200);
        FakeUpstream.Received received = upstream.takeRequest();
        String expected = SAMPLE.replace("\"gpt-4o-mini\"", "\"openai/gpt-5-nano\"");
        assertThat(received.bodyText()).isEqualTo(expected);
        assertThat(received.body()).isEqualTo(expected.getBytes(StandardCharsets.UTF_8));
        assertThat(received.path()).isEqualTo("/api/v1/chat/completions");
        assertThat(received.header("Content-Length"))
                .isEqualTo(String.valueOf(expected.getBytes(StandardCharsets.UTF_8).length));
    }

    @Test
    void openRouterPathsReachTheSameOperation() {
        HttpResponse<String> response = gateway.postJson(
                "/api/v1/embeddings", "{\"model\":\"openai/text-embedding-3-small\",\"input\":\"hello\"}");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(upstream.takeRequest().path()).isEqualTo("/api/v1/embeddings");
        gateway.postJson("/v1/completions", "{\"model\":\"openai/gpt-3.5-turbo-instruct\",\"prompt\":\"hi\"}");
        assertThat(upstream.takeRequest().path()).isEqualTo("/api/v1/completions");
    }

    @Test
    void upstreamGetsItsOwnCredentialAndAttributionButNoneOfTheClientsPrivateHeaders() {
        String response = RawHttp.post(
                port,
                "/v1/chat/completions",
                "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}",
                "Authorization: Bearer " + TestGateway.clientKey,
                "Cookie: session=secret-cookie",
                "Connection: close, X-Hop-Secret",
                "X-Hop-Secret: hop",
                "Keep-Alive: timeout=5",
                "TE: trailers",
                "Upgrade: websocket",
                "Proxy-Authorization: Basic cHJveHk=",
                "X-Forwarded-For: 10.1.2.3",
                "X-Forwarded-Host: evil.example",
                "Forwarded: for=10.1.2.3",
                "X-Real-IP: 10.1.2.3",
                "X-Client-IP: 10.1.2.3",
                "True-Client-IP: 10.1.2.3",
                "X-Original-URL: /admin",
                "Via: 1.1 spoofed",
                "OpenAI-Organization: org-client",
                "OpenAI-Project: proj-client",
                "HTTP-Referer: https://client.example",
                "X-Title: Client Title",
                "X-Stainless-Lang: java",
                "X-Request-Id: client-req-42");
        assertThat(RawHttp.status(response)).isEqualTo(200);
        FakeUpstream.Received received = upstream.takeRequest();
        assertThat(received.header("Authorization")).isEqualTo("Bearer " + TestGateway.UPSTREAM_KEY);
        for (String dropped : new String[] {
            "Cookie",
            "X-Hop-Secret",
            "Keep-Alive",
            "TE",
            "Upgrade",
            "Proxy-Authorization",
            "X-Forwarded-For",
            "X-Forwarded-Host",
            "Forwarded",
            "X-Real-IP",
            "X-Client-IP",
            "True-Client-IP",
            "X-Original-URL",
            "Via",
            "OpenAI-Organization",
            "OpenAI-Project"
        }) {
            assertThat(received.header(dropped)).as(dropped).isNull();
        }
        assertThat(received.headers().toString()).doesNotContain(TestGateway.clientKey);
        assertThat(received.header("Host")).isEqualTo("127.0.0.1:" + upstream.port());
        assertThat(received.header("HTTP-Referer")).isEqualTo("https://switchboard.example");
        assertThat(received.header("X-Title")).isEqualTo("Switchboard Tests");
        assertThat(received.header("X-OpenRouter-Title")).isEqualTo("Switchboard Tests");
        assertThat(received.header("X-OpenRouter-Categories")).isEqualTo("programming");
        assertThat(received.header("X-Stainless-Lang")).isEqualTo("java");
        assertThat(received.header("X-Request-Id")).isEqualTo("client-req-42");
        assertThat(response).containsIgnoringCase("X-Request-Id: client-req-42");
    }

    @Test
    void onlyAllowedResponseHeadersReachTheClient() {
        upstream.enqueue(FakeUpstream.json(
                200,
                "{\"id\":\"gen-9\",\"choices\":[]}",
                Map.of(
                        "X-Generation-Id", "gen-9",
                        "Set-Cookie", "upstream=1",
                        "X-Accel-Redirect", "/internal",
                        "X-Request-Id", "upstream-id-7",
                        "Server", "upstream-lb",
                        "x-ratelimit-remaining-requests", "99")));
        HttpResponse<String> response =
                gateway.postJson("/v1/chat/completions", "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("{\"id\":\"gen-9\",\"choices\":[]}");
        assertThat(response.headers().firstValue("X-Generation-Id")).hasValue("gen-9");
        assertThat(response.headers().firstValue("X-Upstream-Request-Id")).hasValue("upstream-id-7");
        assertThat(response.headers().firstValue("x-ratelimit-remaining-requests"))
                .hasValue("99");
        assertThat(response.headers().firstValue("Set-Cookie")).isEmpty();
        assertThat(response.headers().firstValue("X-Accel-Redirect")).isEmpty();
        assertThat(response.headers().firstValue("Server")).isEmpty();
        assertThat(response.headers().firstValue("X-Request-Id"))
                .isPresent()
                .get()
                .isNotEqualTo("upstream-id-7");
    }

    @Test
    void usageIsRequestedFromProvidersThatOnlySendItOnRequest() {
        upstream.enqueue(FakeUpstream.sse(List.of(FakeUpstream.send(FakeUpstream.usageAndDone(1, 1)))));
        gateway.postJson("/v1/chat/completions", "{\"model\":\"strict/m\",\"stream\":true,\"messages\":[]}");
        assertThat(upstream.takeRequest().bodyText())
                .isEqualTo("{\"stream_options\":{\"include_usage\":true},\"model\":\"strict/m\",\"stream\":true,"
                        + "\"messages\":[]}");

        upstream.enqueue(FakeUpstream.sse(List.of(FakeUpstream.send(FakeUpstream.usageAndDone(1, 1)))));
        gateway.postJson(
                "/v1/chat/completions",
                "{\"model\":\"strict/m\",\"stream\":true,\"stream_options\":{\"include_usage\": false}}");
        assertThat(upstream.takeRequest().bodyText())
                .isEqualTo("{\"model\":\"strict/m\",\"stream\":true,\"stream_options\":{\"include_usage\": true}}");

        upstream.enqueue(FakeUpstream.sse(List.of(FakeUpstream.send(FakeUpstream.usageAndDone(1, 1)))));
        gateway.postJson("/v1/chat/completions", "{\"model\":\"openai/x\",\"stream\":true}");
        assertThat(upstream.takeRequest().bodyText()).isEqualTo("{\"model\":\"openai/x\",\"stream\":true}");
    }

    /** A null the client sent is replaced, never followed by a second member of the same name. */
    @Test
    void usageIsRequestedInPlaceOfANullTheClientSent() {
        upstream.enqueue(FakeUpstream.sse(List.of(FakeUpstream.send(FakeUpstream.usageAndDone(1, 1)))));
        gateway.postJson("/v1/chat/completions", "{\"model\":\"strict/m\",\"stream\":true,\"stream_options\":null}");
        assertThat(upstream.takeRequest().bodyText())
                .isEqualTo("{\"model\":\"strict/m\",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");

        upstream.enqueue(FakeUpstream.sse(List.of(FakeUpstream.send(FakeUpstream.usageAndDone(1, 1)))));
        gateway.postJson(
                "/v1/chat/completions",
                "{\"model\":\"strict/m\",\"stream\":true,\"stream_options\":{\"include_usage\":null,\"x\":1}}");
        assertThat(upstream.takeRequest().bodyText())
                .isEqualTo(
                        "{\"model\":\"strict/m\",\"stream\":true,\"stream_options\":{\"include_usage\":true,\"x\":1}}");

        long before = chatRequests();
        HttpResponse<String> refused = gateway.postJson(
                "/v1/chat/completions",
                "{\"model\":\"strict/m\",\"stream\":true,\"stream_options\":{\"include_usage\":\"true\"}}");
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.body()).contains("\"param\":\"stream_options.include_usage\"");
        assertThat(chatRequests()).isEqualTo(before);
    }

    private long chatRequests() {
        return upstream.requests().stream()
                .filter(r -> r.path().endsWith("/chat/completions"))
                .count();
    }

    @Test
    void modelsListComesFromTheUpstream() {
        HttpResponse<String> response =
                gateway.send(gateway.request("/v1/models").GET().build());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("\"object\":\"list\"").contains("openai/gpt-5-nano");
    }
}
