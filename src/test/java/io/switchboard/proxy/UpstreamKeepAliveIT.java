package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.SwitchboardApplication;
import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.LedgerRows;
import io.switchboard.testing.TestGateway;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The gateway's pool drops a connection idle for longer than {@code max-idle-time} itself, below
 * the upstream's keep-alive as the README asks, so a request never picks a connection the upstream
 * may be closing. Here the upstream keeps idle connections for 10 s, the gateway for 1 s, and
 * requests arrive 3 s apart: each must go out on a new connection, with no failure for the client.
 */
class UpstreamKeepAliveIT {

    @Test
    void aConnectionIdleLongerThanMaxIdleTimeIsNotReused() throws Exception {
        try (FakeUpstream upstream = FakeUpstream.withKeepAlive(Duration.ofSeconds(10));
                ConfigurableApplicationContext gateway = new SpringApplicationBuilder(SwitchboardApplication.class)

                        // Command-line arguments: SpringApplicationBuilder.properties() would lose to application.yml.
                        .run(
                                "--server.port=0",
                                "--gateway.providers.openrouter.base-url=" + upstream.baseUrl(),
                                "--gateway.providers.openrouter.api-key=k",
                                // Well below the upstream's keep-alive (10 s), as the README asks.
                                "--gateway.providers.openrouter.max-idle-time=1s",
                                "--gateway.keys.static[0].name=keepalive",
                                "--gateway.keys.static[0].secret=" + TestGateway.clientKey,
                                "--gateway.storage.path=target/keepalive-it-data/" + java.util.UUID.randomUUID(),
                                "--gateway.admin.key=" + TestGateway.ADMIN_KEY,
                                "--gateway.usage.flush-interval=50ms",
                                "--gateway.usage.fetch-pricing=false",
                                "--gateway.demo.enabled=false")) {
            int port = ((WebServerApplicationContext) gateway).getWebServer().getPort();
            TestGateway client = new TestGateway(port);
            List<Integer> statuses = new ArrayList<>();
            List<String> requestIds = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                HttpResponse<String> response =
                        client.postJson("/v1/chat/completions", "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}");
                statuses.add(response.statusCode());
                requestIds.add(response.headers().firstValue("X-Request-Id").orElseThrow());
                if (i < 3) {
                    // The idle time under test: past the gateway's max-idle-time (and its background
                    // eviction's 1 s period), well short of the upstream's keep-alive, so only the
                    // gateway can have let go of the connection.
                    Thread.sleep(3_000);
                }
            }
            assertThat(statuses).containsOnly(200);
            // Exactly four: no request was sent twice on a connection the upstream was closing.
            assertThat(upstream.requestCount()).isEqualTo(4);
            // Each on a connection of its own: the idle one was never handed out again, though the
            // upstream would still have taken a request on it. (The client's one keep-alive
            // connection keeps all four requests on one gateway loop, so on one pool: with eviction
            // broken, all four went out on the same connection.)
            List<String> peers = upstream.requests().stream()
                    .filter(received -> received.method().equals("POST"))
                    .map(received -> received.connection().peer())
                    .toList();
            assertThat(peers).hasSize(4).doesNotHaveDuplicates();
            // And the ledger holds one row for each, with the upstream's own token counts.
            LedgerRows.assertOneSuccessEach(client, TestGateway.ADMIN_KEY, requestIds, 11, 7);
        }
    }
}
