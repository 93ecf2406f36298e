package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FakeUpstreamInitializer;
import io.switchboard.testing.GatewayIntegrationTest;
import io.switchboard.testing.RawHttp;
import io.switchboard.testing.TestGateway;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * How the gateway reads a request body off the wire: in many chunks, stalled, or cut off by the
 * client (the shared gateway waits {@code gateway.limits.body-idle-timeout=2s} for each part).
 */
@GatewayIntegrationTest
@ExtendWith(OutputCaptureExtension.class)
class RequestBodyReadIT {

    private static final String HEAD = "POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\n"
            + "Authorization: Bearer " + TestGateway.CLIENT_KEY + "\r\nContent-Type: application/json\r\n";

    @LocalServerPort
    int port;

    FakeUpstream upstream = FakeUpstreamInitializer.shared();

    @BeforeEach
    void setUp() {
        upstream.reset();
    }

    private static String body(int contentLength) {
        return "{\"model\":\"openai/gpt-5-nano\",\"messages\":[{\"role\":\"user\",\"content\":\""
                + "y".repeat(contentLength) + "\"}]}";
    }

    /**
     * A body in 300 HTTP chunks of 2000 bytes reaches the upstream byte for byte: past its first
     * pieces the gateway copies such small chunks together (RequestBodyWebFilterTest says why).
     */
    @Test
    void aBodyInManyChunksReachesTheUpstreamWhole() {
        byte[] body = body(600_000).getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.writeBytes(
                (HEAD + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        for (int at = 0; at < body.length; at += 2000) {
            int size = Math.min(2000, body.length - at);
            request.writeBytes((Integer.toHexString(size) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            request.write(body, at, size);
            request.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        request.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));

        String response = RawHttp.exchange(port, request.toByteArray());

        assertThat(RawHttp.status(response)).isEqualTo(200);
        assertThat(posts()).hasSize(1);
        assertThat(posts().get(0).body()).isEqualTo(body);
    }

    /**
     * A client that sends part of its body and then nothing: 408 once nothing came for the idle
     * timeout, and the connection closed; the exchange was held for good.
     */
    @Test
    void aStalledUploadGets408AndItsConnectionCloses() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write((HEAD + "Content-Length: 1000\r\n\r\n{\"model\":").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long start = System.nanoTime();
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            long waited = (System.nanoTime() - start) / 1_000_000;

            assertThat(RawHttp.status(response)).isEqualTo(408);
            assertThat(response).contains("\"code\":\"request_timeout\"", "\"request_id\"");
            assertThat(waited).as("ms until the answer and the close").isBetween(1_500L, 9_000L);
        }
        assertThat(posts()).as("requests relayed upstream").isEmpty();
    }

    /**
     * A client that hangs up halfway through its body is a client that left: counted as
     * {@code client_closed}, not as a 5xx of the gateway's (it was an "Unhandled error", a 500).
     */
    @Test
    void aClientThatHangsUpMidBodyIsCountedAsGoneNotAsAServerError(CapturedOutput output) throws Exception {
        String before = scrape();
        try (Socket socket = new Socket("127.0.0.1", port)) {
            OutputStream out = socket.getOutputStream();
            out.write((HEAD + "Content-Length: 5000\r\n\r\n{\"model\":\"openai/gpt-5-nano\",")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // The body's read has begun (authentication passed) once the server asks for more.
            Thread.sleep(300);
        }
        Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(
                                count(scrape(), "status=\"client_closed\"") - count(before, "status=\"client_closed\""))
                        .isEqualTo(1));
        assertThat(count(scrape(), "status=\"5xx\"")).isEqualTo(count(before, "status=\"5xx\""));
        // The access log says so too (it said 200: the server's status before any answer).
        Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(output.getOut()).contains("POST /v1/chat/completions client_closed"));
        assertThat(output.getOut()).doesNotContain("Unhandled error");
        assertThat(posts()).as("requests relayed upstream").isEmpty();
    }

    /** What reached the upstream's chat completions (the shared one also answers other tests' look-ups). */
    private List<FakeUpstream.Received> posts() {
        return upstream.requests().stream()
                .filter(r -> r.method().equals("POST"))
                .toList();
    }

    private String scrape() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream()
                    .write("GET /actuator/prometheus HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The requests of the static test key counted with {@code labels}, in a scrape. */
    private static double count(String scrape, String labels) {
        double total = 0;
        Matcher m = Pattern.compile("^switchboard_requests_total\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE)
                .matcher(scrape);
        while (m.find()) {
            if (Arrays.stream(new String[] {labels, "key=\"test-client\""}).allMatch(m.group(1)::contains)) {
                total += Double.parseDouble(m.group(2));
            }
        }
        return total;
    }
}
