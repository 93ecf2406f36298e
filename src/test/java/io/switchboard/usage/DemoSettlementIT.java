package io.switchboard.usage;

import static org.awaitility.Awaitility.await;

import io.switchboard.testing.GatewayInstance;
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

            await().atMost(Duration.ofSeconds(30)).until(() -> "settled".equals(costSource(database, requestId)));
        }
    }

    private static String costSource(String database, String requestId) throws Exception {
        try (var c = DriverManager.getConnection("jdbc:h2:mem:" + database + ";DB_CLOSE_DELAY=-1", "sa", "");
                var query = c.prepareStatement("SELECT cost_source FROM usage WHERE request_id = ?")) {
            query.setString(1, requestId);
            try (var rows = query.executeQuery()) {
                return rows.next() ? rows.getString(1) : null;
            }
        }
    }
}
