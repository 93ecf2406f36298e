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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * An upstream connection serves the requests of one event loop only: a request's upstream call is
 * made on a connection opened by the loop that serves the client, so no request is handed between
 * threads on its way (see UpstreamClients).
 */
@GatewayIntegrationTest
class UpstreamConnectionAffinityIT {

    private static final int CLIENTS = 4;
    private static final int ROUNDS = 5;
    private static final byte[] BODY =
            "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}".getBytes(StandardCharsets.UTF_8);

    @LocalServerPort
    int port;

    FakeUpstream upstream = FakeUpstreamInitializer.shared();

    @BeforeEach
    void resetUpstream() {
        upstream.reset();
    }

    /**
     * Four keep-alive client connections opened one after the other land on four different event
     * loops (the server deals accepted connections out in turn, and runs at least four loops). Their
     * requests, taken in turn, must never share an upstream connection. With one pool for all loops
     * they did: each request took whichever connection had been idle longest.
     */
    @Test
    void clientConnectionsOnDifferentLoopsNeverShareAnUpstreamConnection() throws Exception {
        String prefix = "affinity-" + System.nanoTime() + "-";
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int c = 0; c < CLIENTS; c++) {
                Socket socket = new Socket("127.0.0.1", port);
                socket.setSoTimeout(10_000);
                sockets.add(socket);
            }
            for (int round = 0; round < ROUNDS; round++) {
                for (int c = 0; c < CLIENTS; c++) {
                    String status = post(sockets.get(c), prefix + c + "-" + round);
                    assertThat(status).startsWith("HTTP/1.1 200");
                }
            }
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
        }

        Map<Integer, Set<String>> upstreamConnectionsByClient = new TreeMap<>();
        for (FakeUpstream.Received received : upstream.requests()) {
            String id = received.header("X-Request-Id");
            if (id != null && id.startsWith(prefix)) {
                int client = Integer.parseInt(id.substring(prefix.length(), id.indexOf('-', prefix.length())));
                upstreamConnectionsByClient
                        .computeIfAbsent(client, k -> new HashSet<>())
                        .add(received.connection().peer());
            }
        }
        assertThat(upstreamConnectionsByClient).hasSize(CLIENTS);
        Set<String> seen = new HashSet<>();
        upstreamConnectionsByClient.forEach((client, connections) -> {
            for (String connection : connections) {
                assertThat(seen.add(connection))
                        .as(
                                "upstream connection %s also served another client connection's requests: %s",
                                connection, upstreamConnectionsByClient)
                        .isTrue();
            }
        });
    }

    /** One request on a keep-alive connection; returns the status line after reading the whole answer. */
    private static String post(Socket socket, String requestId) throws Exception {
        OutputStream out = socket.getOutputStream();
        String head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer " + TestGateway.clientKey + "\r\n"
                + "X-Request-Id: " + requestId + "\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + BODY.length + "\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(BODY);
        out.flush();
        return readAnswer(socket.getInputStream());
    }

    private static String readAnswer(InputStream in) throws Exception {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IllegalStateException("connection closed after: " + head);
            }
            head.append((char) b);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        in.readNBytes(length);
        return head.substring(0, head.indexOf("\r\n"));
    }
}
