package io.switchboard.faults;

import static io.switchboard.testing.FakeUpstream.chunk;
import static io.switchboard.testing.FakeUpstream.pause;
import static io.switchboard.testing.FakeUpstream.send;
import static io.switchboard.testing.FakeUpstream.usageAndDone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.proxy.ShutdownWebFilter;
import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.GatewayInstance;
import io.switchboard.testing.RawHttp;
import io.switchboard.testing.TestGateway;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.support.GenericApplicationContext;

/**
 * Closing a gateway while streams are in flight: they finish normally, a request that arrives after
 * the shutdown began is refused (503 OpenAI-shaped, or no connection at all once the listener is
 * closed), and the ledger holds a row for every stream after the stop.
 */
class GracefulShutdownIT {

    private static final int STREAMS = 8;
    private static final int EVENTS = 10;
    private static final String STREAM = "{\"model\":\"openai/gpt-5-nano\",\"stream\":true,\"messages\":[]}";

    @Test
    void inFlightStreamsCompleteNewRequestsAreRefusedAndTheLedgerHasEveryRowAfterTheStop() throws Exception {
        Path data =
                Path.of("target/faults-shutdown", UUID.randomUUID().toString()).toAbsolutePath();
        try (FakeUpstream upstream = FakeUpstream.start()) {
            Map<String, String> settings = DependencyFaults.settings(upstream);
            settings.put("gateway.storage.path", data.toString());
            settings.put("gateway.keys.static[0].name", "test-client");
            settings.put("gateway.keys.static[0].secret", TestGateway.CLIENT_KEY);
            GatewayInstance gateway = GatewayInstance.start(settings);
            int port = gateway.port();
            TestGateway client = gateway.gateway();

            for (int i = 0; i < STREAMS; i++) {
                List<FakeUpstream.Step> steps = new ArrayList<>();
                for (int e = 0; e < EVENTS; e++) {
                    steps.add(send(chunk("e" + e)));
                    steps.add(pause(Duration.ofMillis(150)));
                }
                steps.add(send(usageAndDone(5, EVENTS)));
                upstream.enqueue(FakeUpstream.sse(steps));
            }
            List<CompletableFuture<HttpResponse<String>>> streams = new ArrayList<>();
            for (int i = 0; i < STREAMS; i++) {
                streams.add(client.http()
                        .sendAsync(
                                client.request("/v1/chat/completions")
                                        .header("Content-Type", "application/json")
                                        .header("X-Request-Id", "inflight-" + i)
                                        .POST(HttpRequest.BodyPublishers.ofString(STREAM))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString()));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> upstream.requestCount() == STREAMS);
            // A keep-alive connection opened before the shutdown, idle when it begins.
            try (Socket keptAlive = new Socket("127.0.0.1", port)) {
                keptAlive.setSoTimeout(10_000);
                assertThat(exchange(keptAlive, port, "before")).startsWith("HTTP/1.1 404");

                CompletableFuture<Void> closed = CompletableFuture.runAsync(gateway::close);
                await().atMost(Duration.ofSeconds(10))
                        .pollInterval(Duration.ofMillis(20))
                        .until(() -> refusesConnections(port));
                assertThat(closed).isNotDone();

                String late = exchange(keptAlive, port, "after");
                if (!late.isEmpty()) {
                    assertThat(RawHttp.status(late)).isEqualTo(503);
                    assertThat(late)
                            .contains("\"code\":\"service_unavailable\"")
                            .containsIgnoringCase("connection: close");
                }
                System.out.println("request on a kept-alive connection after the shutdown began: "
                        + (late.isEmpty()
                                ? "connection closed"
                                : late.lines().findFirst().orElseThrow()));

                closed.get(30, java.util.concurrent.TimeUnit.SECONDS);
            }
            for (CompletableFuture<HttpResponse<String>> stream : streams) {
                HttpResponse<String> response = stream.get(20, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.body())
                        .contains("\"content\":\"e" + (EVENTS - 1) + "\"")
                        .endsWith("data: [DONE]\n\n");
            }
            assertThat(upstream.requestCount()).isEqualTo(STREAMS);
        }
        String jdbc = "jdbc:h2:file:" + data.resolve("switchboard");
        try (var connection = DriverManager.getConnection(jdbc, "sa", "");
                var rows = connection
                        .createStatement()
                        .executeQuery("SELECT COUNT(*), SUM(completion_tokens) FROM usage"
                                + " WHERE request_id LIKE 'inflight-%' AND status = 200 AND outcome = 'success'")) {
            rows.next();
            assertThat(rows.getLong(1)).isEqualTo(STREAMS);
            assertThat(rows.getLong(2)).isEqualTo((long) STREAMS * EVENTS);
        }
    }

    /**
     * Reactor Netty closes the listener and idle connections as soon as the graceful phase starts, so
     * the window above rarely sees a late request: here the filter is told what the context tells it
     * when the shutdown begins, and a request on the running gateway shows what such a request gets.
     */
    @Test
    void aRequestArrivingAfterTheShutdownBeganGetsAnOpenAiShaped503AndHealthStillAnswers() {
        try (FakeUpstream upstream = FakeUpstream.start()) {
            Map<String, String> settings = DependencyFaults.settings(upstream);
            settings.put("gateway.storage.path", "target/faults-shutdown/" + UUID.randomUUID());
            settings.put("gateway.keys.static[0].name", "test-client");
            settings.put("gateway.keys.static[0].secret", TestGateway.CLIENT_KEY);
            try (GatewayInstance gateway = GatewayInstance.start(settings)) {
                gateway.bean(ShutdownWebFilter.class)
                        .onApplicationEvent(new ContextClosedEvent(new GenericApplicationContext()));
                String late = RawHttp.post(
                        gateway.port(),
                        "/v1/chat/completions",
                        DependencyFaults.CHAT,
                        "Authorization: Bearer " + TestGateway.CLIENT_KEY);
                assertThat(RawHttp.status(late)).isEqualTo(503);
                assertThat(late)
                        .containsIgnoringCase("connection: close")
                        .containsIgnoringCase("retry-after: 1")
                        .contains("\"type\":\"server_error\"")
                        .contains("\"code\":\"service_unavailable\"");
                assertThat(upstream.requestCount()).isZero();
                assertThat(gateway.gateway()
                                .send(HttpRequest.newBuilder(gateway.gateway().uri("/actuator/health/liveness"))
                                        .GET()
                                        .build())
                                .statusCode())
                        .isEqualTo(200);
            }
        }
    }

    private static boolean refusesConnections(int port) {
        try (Socket probe = new Socket("127.0.0.1", port)) {
            return false;
        } catch (ConnectException refused) {
            return true;
        } catch (IOException other) {
            return false;
        }
    }

    /**
     * One GET on an open connection: the response head and body, or "" when the server closed it
     * (end of stream, or a reset). A server that neither answers nor closes within the socket's read
     * timeout fails the test: a request left hanging was not refused.
     */
    private static String exchange(Socket socket, int port, String id) throws IOException {
        OutputStream out = socket.getOutputStream();
        String request = "GET /v1/no-such-operation HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAuthorization: Bearer "
                + TestGateway.CLIENT_KEY + "\r\nX-Request-Id: " + id + "\r\n\r\n";
        try {
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
        } catch (SocketException closed) {
            // Reset or broken pipe: the server had closed the connection already.
            return "";
        }
        InputStream in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        int contentLength = -1;
        try {
            int b;
            while ((b = in.read()) >= 0) {
                head.append((char) b);
                if (head.toString().endsWith("\r\n\r\n")) {
                    break;
                }
            }
            for (String line : head.toString().split("\r\n")) {
                if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                    contentLength = Integer.parseInt(line.substring(15).strip());
                }
            }
            if (contentLength > 0) {
                head.append(new String(in.readNBytes(contentLength), StandardCharsets.UTF_8));
            }
        } catch (SocketTimeoutException silent) {
            throw new AssertionError(
                    "request " + id + " was neither answered nor its connection closed within " + socket.getSoTimeout()
                            + " ms; received: '" + head + "'",
                    silent);
        } catch (SocketException reset) {
            // Reset by the server: whatever arrived before it.
        }
        return head.toString();
    }
}
