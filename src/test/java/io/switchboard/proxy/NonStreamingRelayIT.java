package io.switchboard.proxy;

import static io.switchboard.testing.FakeUpstream.await;
import static io.switchboard.testing.FakeUpstream.send;
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
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/** Answers without {@code "stream": true}: how they leave the gateway. */
@GatewayIntegrationTest
class NonStreamingRelayIT {

    private static final String REQUEST =
            "{\"model\":\"openai/gpt-5-nano\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private static final Pattern CONTENT_LENGTH = Pattern.compile("(?im)^content-length: *(\\d+)");

    @LocalServerPort
    int port;

    FakeUpstream upstream = FakeUpstreamInitializer.shared();

    @BeforeEach
    void resetUpstream() {
        upstream.reset();
    }

    /**
     * A small answer that the upstream sent whole goes out whole: its headers and body in one send,
     * so the client reads them together. Sending the headers alone first cost a system call and a
     * network segment more per request, and the client a wake-up more.
     */
    @Test
    void aSmallAnswerReachesTheClientInOneReadWithItsHeaders() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            byte[] body = REQUEST.getBytes(StandardCharsets.UTF_8);
            String head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer " + TestGateway.clientKey + "\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n";
            byte[] buffer = new byte[65536];
            for (int i = 0; i < 20; i++) {
                out.write(head.getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();

                int n = in.read(buffer);

                String first = new String(buffer, 0, Math.max(n, 0), StandardCharsets.UTF_8);
                int end = first.indexOf("\r\n\r\n");
                assertThat(end)
                        .as("request %d: the first read holds the whole head: %s", i, first)
                        .isPositive();
                assertThat(first).startsWith("HTTP/1.1 200");
                Matcher length = CONTENT_LENGTH.matcher(first.substring(0, end + 2));
                assertThat(length.find()).as("a declared length: %s", first).isTrue();
                assertThat(n - (end + 4))
                        .as("request %d: body bytes in the same read as the head", i)
                        .isEqualTo(Integer.parseInt(length.group(1)));
                assertThat(first.substring(end + 4)).contains("\"fake answer\"");
            }
        }
    }

    /**
     * A body with a declared length that the upstream sends in pieces still goes through piece by
     * piece: the second piece is sent only once the client has the first.
     */
    @Test
    void anAnswerSentInPiecesIsPassedOnAsEachPieceArrives() {
        String part1 = "{\"id\":\"gen-slow\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,";
        String part2 = "\"message\":{\"role\":\"assistant\",\"content\":\"late\"},\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}";
        int length = (part1 + part2).getBytes(StandardCharsets.UTF_8).length;
        CompletableFuture<Void> clientHasFirst = new CompletableFuture<>();
        upstream.enqueue(FakeUpstream.streamed(
                200,
                "application/json",
                Map.of("Content-Length", String.valueOf(length)),
                List.of(send(part1), await(clientHasFirst), send(part2))));
        StringBuilder seen = new StringBuilder();

        String answer = HttpClient.create()
                .post()
                .uri("http://127.0.0.1:" + port + "/v1/chat/completions")
                .send((request, out) -> {
                    request.header("Authorization", "Bearer " + TestGateway.clientKey)
                            .header("Content-Type", "application/json");
                    return out.send(ByteBufFlux.fromString(Mono.just(REQUEST)));
                })
                .response((response, content) -> content.asString(StandardCharsets.UTF_8)
                        .doOnNext(piece -> {
                            seen.append(piece);
                            if (seen.toString().equals(part1)) {
                                clientHasFirst.complete(null);
                            }
                        }))
                .reduce(String::concat)
                .block(Duration.ofSeconds(15));

        assertThat(clientHasFirst)
                .as("the client had the first piece on its own")
                .isCompleted();
        assertThat(answer).isEqualTo(part1 + part2);
    }
}
