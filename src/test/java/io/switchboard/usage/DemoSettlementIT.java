package io.switchboard.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.testing.GatewayInstance;
import java.math.BigDecimal;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The demo upstream answers OpenRouter's generation look-up, so a demo stream the client left is
 * settled like an OpenRouter one (it once stayed an estimate: only the providers named in
 * {@code settle-providers} were asked).
 */
class DemoSettlementIT {

    @Test
    void aDemoStreamTheClientLeftIsSettledFromTheDemosGenerationLookup() throws Exception {
        String database = "demo_" + UUID.randomUUID().toString().replace("-", "");
        try (GatewayInstance gateway = GatewayInstance.replica(
                "http://127.0.0.1:9/api/v1",
                database,
                "gateway.demo.enabled=true",
                "gateway.usage.settlement-delay=200ms")) {
            String requestId = UsageFixtures.leaveMidStream(gateway.gateway(), "demo/chat");

            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                Row row = row(database, requestId);
                assertThat(row).as("the ledger's row").isNotNull();
                assertThat(row.costSource()).isEqualTo("settled");
                assertThat(row.outcome()).isEqualTo("client_closed");
                assertThat(row.estimated()).as("estimated").isFalse();
                // The demo prices demo/chat: the generation's cost, not an estimate's.
                assertThat(row.costUsd()).isPositive();
            });
        }
    }

    private record Row(String costSource, String outcome, boolean estimated, BigDecimal costUsd) {}

    private static Row row(String database, String requestId) throws Exception {
        try (var c = DriverManager.getConnection("jdbc:h2:mem:" + database + ";DB_CLOSE_DELAY=-1", "sa", "");
                var query = c.prepareStatement(
                        "SELECT cost_source, outcome, estimated, cost_usd FROM usage WHERE request_id = ?")) {
            query.setString(1, requestId);
            try (var rows = query.executeQuery()) {
                return rows.next()
                        ? new Row(rows.getString(1), rows.getString(2), rows.getBoolean(3), rows.getBigDecimal(4))
                        : null;
            }
        }
    }
}
