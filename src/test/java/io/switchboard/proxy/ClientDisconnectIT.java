package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FakeUpstreamInitializer;
import io.switchboard.testing.GatewayIntegrationTest;
import io.switchboard.testing.TestGateway;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/** A client that leaves, or reads slowly, costs the upstream nothing more. */
@GatewayIntegrationTest
class ClientDisconnectIT {

    @LocalServerPort
    int port;

    FakeUpstream upstream = FakeUpstreamInitializer.shared();

    @BeforeEach
    void setUp() {
        upstream.reset();
    }

    private Socket sendRequest(String body) throws Exception {
        Socket socket = new Socket("127.0.0.1", port);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TestGateway.clientKey
                        + "\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        out.write(bytes);
        out.flush();
        return socket;
    }

    @Test
    void clientLeavingBeforeTheUpstreamAnswersClosesTheUpstreamConnection() throws Exception {
        upstream.enqueue(FakeUpstream.neverAnswer());
        Socket socket = sendRequest("{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}");
        FakeUpstream.Received received = upstream.takeRequest();
        long leftAt = System.nanoTime();
        socket.close();
        long closedAt = received.connection().closed().get(5, TimeUnit.SECONDS);
        assertThat(Duration.ofNanos(closedAt - leftAt)).isLessThan(Duration.ofMillis(500));
    }

    @Test
    void slowReaderPushesBackOnTheUpstreamInsteadOfFillingMemory() throws Exception {
        AtomicLong produced = new AtomicLong();
        String event = "data: {\"pad\":\"" + "x".repeat(16 * 1024) + "\"}\n\n";
        // 64 MB of events if nothing pushed back; the fake counts what it managed to hand over.
        upstream.enqueue(FakeUpstream.sse(List.of(FakeUpstream.endless(Duration.ZERO, i -> {
            produced.addAndGet(event.length());
            return event;
        }))));
        try (Socket socket = sendRequest("{\"model\":\"openai/gpt-5-nano\",\"stream\":true}")) {
            socket.setReceiveBufferSize(4096);
            InputStream in = socket.getInputStream();
            byte[] first = new byte[256];
            assertThat(in.read(first)).isPositive();
            FakeUpstream.Received received = upstream.takeRequest();
            // Read nothing more: the upstream must stall, not the gateway's heap grow.
            long before = produced.get();
            long[] last = {-1};
            org.awaitility.Awaitility.await()
                    .pollInterval(Duration.ofMillis(300))
                    .atMost(Duration.ofSeconds(20))
                    .until(() -> {
                        long now = produced.get();
                        boolean unchanged = now == last[0];
                        last[0] = now;
                        return unchanged;
                    });
            long stalled = produced.get();
            assertThat(stalled).as("bytes the upstream could hand over").isLessThan(32L * 1024 * 1024);
            org.awaitility.Awaitility.await()
                    .during(Duration.ofSeconds(1))
                    .atMost(Duration.ofSeconds(3))
                    .until(() -> produced.get() - stalled < 1024L * 1024);
            assertThat(before).isPositive();
            socket.close();
            received.connection().closed().get(5, TimeUnit.SECONDS);
        }
    }
}
