package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FakeUpstreamInitializer;
import io.switchboard.testing.GatewayIntegrationTest;
import io.switchboard.testing.RawHttp;
import io.switchboard.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Malformed and hostile requests, each over a real socket: every one gets a 4xx (OpenAI-shaped where
 * the gateway itself answers), never a 5xx or a hang, and the upstream sees only what it should.
 * Requests the HTTP codec refuses before any handler runs (a malformed request line, oversized
 * headers or URL, conflicting lengths) get the codec's bare status, which is documented.
 */
@GatewayIntegrationTest
class BadInputIT {

    private static final String CHAT = "/v1/chat/completions";
    private static final String VALID = "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}";

    @LocalServerPort
    int port;

    FakeUpstream upstream = FakeUpstreamInitializer.shared();

    @BeforeEach
    void setUp() {
        upstream.reset();
    }

    /** One hostile request and what it must get. */
    record Case(
            String name,
            byte[] request,
            int minStatus,
            int maxStatus,
            boolean openAiShaped,
            boolean mayReachUpstream) {}

    private static byte[] request(String head, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(head.getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(body);
        return out.toByteArray();
    }

    private static String auth() {
        return "Authorization: Bearer " + TestGateway.clientKey + "\r\n";
    }

    private static byte[] post(String body, String extraHeaders) {
        return postBytes(body.getBytes(StandardCharsets.UTF_8), extraHeaders);
    }

    private static byte[] postBytes(byte[] body, String extraHeaders) {
        return request(
                "POST " + CHAT + " HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n" + auth()
                        + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n" + extraHeaders
                        + "\r\n",
                body);
    }

    /** A body whose chars are its bytes (ISO-8859-1), so that any byte can be written. */
    private static Case notUtf8(String name, String bytesAsChars) {
        return new Case(name, postBytes(bytesAsChars.getBytes(StandardCharsets.ISO_8859_1), ""), 400, 400, true, false);
    }

    private static Case bad(String name, String body) {
        return new Case(name, post(body, ""), 400, 400, true, false);
    }

    private static List<Case> cases() throws Exception {
        List<Case> cases = new ArrayList<>();
        cases.add(bad("truncated JSON", "{\"model\":"));
        cases.add(bad("empty body", ""));
        cases.add(bad("array body", "[{\"model\":\"openai/gpt-5-nano\"}]"));
        cases.add(bad("string body", "\"hello\""));
        cases.add(bad("number body", "42"));
        cases.add(bad("two objects", VALID + VALID));
        cases.add(bad("trailing garbage", VALID + "xyz"));
        cases.add(bad(
                "deep nesting", "{\"model\":\"openai/gpt-5-nano\",\"x\":" + "[".repeat(5000) + "]".repeat(5000) + "}"));
        cases.add(bad("huge integer", "{\"model\":\"openai/gpt-5-nano\",\"seed\":" + "9".repeat(500) + "}"));
        cases.add(bad("huge max_tokens", "{\"model\":\"openai/gpt-5-nano\",\"max_tokens\":" + "9".repeat(40) + "}"));
        cases.add(bad("negative max_tokens", "{\"model\":\"openai/gpt-5-nano\",\"max_tokens\":-1}"));
        cases.add(bad("fractional max_tokens", "{\"model\":\"openai/gpt-5-nano\",\"max_tokens\":1.5}"));
        cases.add(bad("stream as string", "{\"model\":\"openai/gpt-5-nano\",\"stream\":\"yes\"}"));
        cases.add(bad("stream as number", "{\"model\":\"openai/gpt-5-nano\",\"stream\":1}"));
        cases.add(bad("duplicate model", "{\"model\":\"openai/gpt-5-nano\",\"model\":\"anthropic/claude-3.5-haiku\"}"));
        cases.add(bad("duplicate stream", "{\"model\":\"openai/gpt-5-nano\",\"stream\":false,\"stream\":true}"));
        // Go's JSON decoder (Ollama, LocalAI) matches names in any case and keeps the last one.
        cases.add(bad(
                "model again in another case",
                "{\"model\":\"openai/gpt-5-nano\",\"Model\":\"anthropic/claude-opus\"}"));
        cases.add(bad("model only in another case", "{\"MODEL\":\"anthropic/claude-opus\",\"messages\":[]}"));
        cases.add(bad("stream in another case", "{\"model\":\"openai/gpt-5-nano\",\"Stream\":true}"));
        cases.add(bad("n as a fraction", "{\"model\":\"openai/gpt-5-nano\",\"n\":4.0}"));
        cases.add(bad("n as a string", "{\"model\":\"openai/gpt-5-nano\",\"n\":\"4\"}"));
        cases.add(bad("model as object", "{\"model\":{\"name\":\"x\"}}"));
        cases.add(bad("model as array", "{\"model\":[\"x\"]}"));
        cases.add(bad("empty model", "{\"model\":\"\"}"));
        cases.add(bad("model with newline", "{\"model\":\"openai/gpt\\n-5\"}"));
        cases.add(bad("model with CRLF", "{\"model\":\"openai/gpt\\r\\nX-Injected: 1\"}"));
        cases.add(bad("model with a ../ segment", "{\"model\":\"openai/../anthropic/claude-3.5-haiku\"}"));
        cases.add(bad("model as a URL", "{\"model\":\"http://evil.example/v1/chat\"}"));
        cases.add(bad("model with a space", "{\"model\":\"openai/gpt-5-nano extra\"}"));
        cases.add(bad("a UTF-8 byte order mark before the JSON", "\uFEFF" + VALID));
        cases.add(bad(
                "fallback models longer than 64",
                "{\"model\":\"openai/gpt-5-nano\",\"models\":[" + "\"gpt-4o-mini\",".repeat(64) + "\"gpt-4o-mini\"]}"));
        cases.add(bad(
                "include_usage twice in stream_options",
                "{\"model\":\"openai/gpt-5-nano\",\"stream\":true,"
                        + "\"stream_options\":{\"include_usage\":null,\"include_usage\":false}}"));
        cases.add(bad(
                "fallback models with a ../ segment",
                "{\"model\":\"openai/gpt-5-nano\",\"models\":[\"openai/../anthropic/x\"]}"));
        cases.add(new Case(
                "two Authorization headers",
                post(VALID, "Authorization: Bearer sk-gw-someone-else\r\n"),
                401,
                401,
                true,
                false));
        cases.add(bad("model of 300 characters", "{\"model\":\"" + "m".repeat(300) + "\"}"));
        cases.add(bad("models not an array", "{\"model\":\"openai/gpt-5-nano\",\"models\":\"a\"}"));
        cases.add(bad("models with a number", "{\"model\":\"openai/gpt-5-nano\",\"models\":[1]}"));
        cases.add(bad("stream_options as string", "{\"model\":\"openai/gpt-5-nano\",\"stream_options\":\"x\"}"));
        cases.add(bad("single quotes", "{'model':'openai/gpt-5-nano'}"));
        cases.add(bad("comment", "{/* hi */\"model\":\"openai/gpt-5-nano\"}"));
        cases.add(bad("NaN", "{\"model\":\"openai/gpt-5-nano\",\"temperature\":NaN}"));
        cases.add(bad("unterminated string", "{\"model\":\"openai/gpt-5-nano}"));
        cases.add(bad("bad unicode escape", "{\"model\":\"openai/gpt-5-nano\",\"x\":\"\\uZZZZ\"}"));
        cases.add(bad("raw control character", "{\"model\":\"openai/gpt-5-nano\",\"x\":\"a\u0001b\"}"));
        cases.add(new Case(
                "invalid UTF-8",
                postBytes(
                        new byte[] {'{', '"', 'm', 'o', 'd', 'e', 'l', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'
                        },
                        ""),
                400,
                400,
                true,
                false));
        // Overlong forms, which Jackson decodes as the ASCII they spell: the gateway read "model" and
        // "max_tokens" where an upstream reads other names (and so no model, and no token limit).
        cases.add(notUtf8(
                "an overlong 'e' in the name model",
                "{\"mod\u00c1\u00a5l\":\"openai/gpt-5-nano\",\"max_tok\u00c1\u00a5ns\":1,\"messages\":[]}"));
        cases.add(notUtf8("an overlong '/' in the model", "{\"model\":\"openai\u00c0\u00afgpt-5-nano\"}"));
        cases.add(notUtf8(
                "an overlong three-byte form", "{\"model\":\"openai/gpt-5-nano\",\"x\":\"\u00e0\u0080\u00af\"}"));
        cases.add(notUtf8("an encoded surrogate", "{\"model\":\"openai/gpt-5-nano\",\"x\":\"\u00ed\u00a0\u0080\"}"));
        cases.add(notUtf8(
                "a code point past U+10FFFF", "{\"model\":\"openai/gpt-5-nano\",\"x\":\"\u00f4\u0090\u0080\u0080\"}"));
        cases.add(notUtf8("a sequence cut short at the end", "{\"model\":\"openai/gpt-5-nano\"}\u00e2\u0082"));
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream zip = new GZIPOutputStream(gz)) {
            byte[] zeros = new byte[1024 * 1024];
            for (int i = 0; i < 50; i++) {
                zip.write(zeros);
            }
        }
        cases.add(new Case(
                "gzip bomb", postBytes(gz.toByteArray(), "Content-Encoding: gzip\r\n"), 400, 415, true, false));
        cases.add(new Case(
                "body over the limit",
                // Declared over the limit, barely sent: the gateway refuses on Content-Length alone.
                request(
                        "POST " + CHAT + " HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n" + auth()
                                + "Content-Type: application/json\r\nContent-Length: 1100000\r\n\r\n{\"model\":",
                        new byte[0]),
                413,
                413,
                true,
                false));
        cases.add(new Case(
                "wrong method",
                request(
                        "PUT " + CHAT + " HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n" + auth()
                                + "Content-Length: 0\r\n\r\n",
                        new byte[0]),
                405,
                405,
                true,
                false));
        cases.add(new Case(
                "wrong method: TRACE, which the firewall refuses before the routes",
                request(
                        "TRACE " + CHAT + " HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n" + auth() + "\r\n",
                        new byte[0]),
                405,
                405,
                true,
                false));
        cases.add(new Case(
                "path traversal",
                request(
                        "GET /v1/../admin/keys HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n" + auth() + "\r\n",
                        new byte[0]),
                400,
                404,
                false,
                false));
        cases.add(new Case(
                "unknown path",
                request("GET /v1/files HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n" + auth() + "\r\n", new byte[0]),
                404,
                404,
                true,
                false));
        cases.add(new Case(
                "Transfer-Encoding with Content-Length",
                request(
                        "POST " + CHAT + " HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n" + auth()
                                + "Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                                + Integer.toHexString(VALID.length()) + "\r\n" + VALID + "\r\n0\r\n\r\n",
                        new byte[0]),
                200,
                400,
                false,
                true));
        cases.add(new Case(
                "two different Content-Lengths",
                request(
                        "POST " + CHAT + " HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n" + auth()
                                + "Content-Type: application/json\r\nContent-Length: 5\r\nContent-Length: "
                                + VALID.length()
                                + "\r\n\r\n" + VALID,
                        new byte[0]),
                400,
                400,
                false,
                false));
        cases.add(new Case(
                "100 KB header", post(VALID, "X-Big: " + "a".repeat(100 * 1024) + "\r\n"), 400, 431, true, false));
        cases.add(new Case(
                "10 KB URL",
                request(
                        "GET /v1/models?" + "q".repeat(10 * 1024) + " HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n"
                                + auth() + "\r\n",
                        new byte[0]),
                400,
                414,
                false,
                false));
        cases.add(new Case(
                "bare CR in a header value", post(VALID, "X-Note: a\rInjected: b\r\n"), 200, 400, false, true));
        // C1 control characters (0x80-0x9F), which Netty lets through and the firewall refuses:
        // forwarded unchecked, or failing the upstream call (502) once read for the attribution.
        cases.add(new Case("C1 control in a header", post(VALID, "X-Note: caf\u0085\r\n"), 400, 400, true, false));
        cases.add(new Case("C1 control in the title", post(VALID, "X-Title: caf\u0085\r\n"), 400, 400, true, false));
        // Paths the security firewall refuses: the same OpenAI-shaped 400 as any other bad request.
        for (String path : List.of("/v1//chat/completions", "/v1/chat/completions;x=1", "/v1%2Fchat/completions")) {
            cases.add(new Case(
                    "firewall: " + path,
                    request(
                            "POST " + path + " HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n" + auth()
                                    + "Content-Type: application/json\r\nContent-Length: " + VALID.length()
                                    + "\r\n\r\n" + VALID,
                            new byte[0]),
                    400,
                    400,
                    true,
                    false));
        }
        cases.add(new Case(
                "garbage request line", request("\u0001\u0002 NOT HTTP\r\n\r\n", new byte[0]), 400, 400, false, false));
        return cases;
    }

    @Test
    void everyHostileRequestGetsAClientErrorAndNothingBadReachesTheUpstream() throws Exception {
        List<Case> cases = cases();
        assertThat(cases).hasSizeGreaterThanOrEqualTo(40);
        List<String> failures = new ArrayList<>();
        for (Case c : cases) {
            upstream.reset();
            long start = System.nanoTime();
            String response = RawHttp.exchange(port, c.request());
            long millis = (System.nanoTime() - start) / 1_000_000;
            if (response.length() < 12) {
                failures.add(c.name() + ": no response within " + millis + " ms");
                continue;
            }
            int status = RawHttp.status(response);
            System.out.printf("bad input %-40s -> %d in %d ms%n", c.name(), status, millis);
            if (status < c.minStatus() || status > c.maxStatus()) {
                failures.add(c.name() + ": status " + status);
            }
            if (status >= 500) {
                failures.add(c.name() + ": server error " + status);
            }
            // Every refusal, the HTTP server's own (a header block or URL too long, a request it
            // cannot parse) included, is OpenAI-shaped with a request id.
            if ((c.openAiShaped() || status >= 400)
                    && !(response.contains("{\"error\":{") && response.contains("\"request_id\""))) {
                failures.add(c.name() + ": not an OpenAI-shaped error: "
                        + response.substring(0, Math.min(200, response.length())));
            }
            if (!c.mayReachUpstream()
                    && upstream.requests().stream().anyMatch(r -> r.method().equals("POST"))) {
                failures.add(c.name() + ": reached the upstream");
            }
            if (response.contains(TestGateway.UPSTREAM_KEY)) {
                failures.add(c.name() + ": upstream key echoed");
            }
        }
        assertThat(failures).isEmpty();
        // And the gateway is still healthy afterwards.
        assertThat(RawHttp.status(RawHttp.post(port, CHAT, VALID, auth().strip(), "Connection: close")))
                .isEqualTo(200);
    }
}
