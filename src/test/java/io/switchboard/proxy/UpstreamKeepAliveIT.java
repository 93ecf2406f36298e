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
 * An upstream that closes idle keep-alive connections after 5 s while requests arrive every 5 s:
 * the gateway's pool must never hand out a connection the upstream already closed, so no client
 * sees a premature close.
 */
class UpstreamKeepAliveIT {

    @Test
    void requestsPacedAtTheUpstreamsKeepAliveNeverFail() throws Exception {
        try (FakeUpstream upstream = FakeUpstream.withKeepAlive(Duration.ofSeconds(5));
                ConfigurableApplicationContext gateway = new SpringApplicationBuilder(SwitchboardApplication.class)

                        // Command-line arguments: SpringApplicationBuilder.properties() would lose to application.yml.
                        .run(
                                "--server.port=0",
                                "--gateway.providers.openrouter.base-url=" + upstream.baseUrl(),
                                "--gateway.providers.openrouter.api-key=k",
                                // Below the upstream's keep-alive, as the README asks.
                                "--gateway.providers.openrouter.max-idle-time=4s",
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
                    // The traffic pattern under test: one request every 5 s, the upstream's keep-alive.
                    Thread.sleep(5_000);
                }
            }
            assertThat(statuses).containsOnly(200);
            // Exactly four: no request was sent twice on a connection the upstream was closing.
            assertThat(upstream.requestCount()).isEqualTo(4);
            // And the ledger holds one row for each, with the upstream's own token counts.
            LedgerRows.assertOneSuccessEach(client, TestGateway.ADMIN_KEY, requestIds, 11, 7);
        }
    }
}
