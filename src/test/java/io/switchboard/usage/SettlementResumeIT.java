package io.switchboard.usage;

import static io.switchboard.testing.FakeUpstream.chunk;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.GatewayInstance;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A settlement a stop interrupted: the client left a stream, the gateway stopped before it asked
 * the upstream for the generation's accounting; the next start finds the estimated row in the
 * ledger and settles it, once.
 */
class SettlementResumeIT {

    @Test
    void theNextStartSettlesTheRowsAStopLeftEstimated() throws Exception {
        String database = "resume_" + UUID.randomUUID().toString().replace("-", "");
        try (FakeUpstream upstream = FakeUpstream.start()) {
            upstream.enqueue(FakeUpstream.sse(
                    Map.of("X-Generation-Id", "gen-resume-1"),
                    List.of(FakeUpstream.endless(Duration.ofMillis(20), i -> chunk("t" + i)))));
            String requestId;
            // Settlement would ask only after a minute: this gateway stops long before.
            try (GatewayInstance first = GatewayInstance.replica(
                    upstream.baseUrl(),
                    database,
                    "gateway.usage.settlement-delay=60s",
                    "gateway.usage.flush-interval=50ms",
                    "gateway.usage.fetch-pricing=false")) {
                requestId = UsageFixtures.leaveMidStream(first.gateway());
                await().atMost(Duration.ofSeconds(30)).until(() -> row(database, requestId) != null);
            }
            Map<String, Object> left = row(database, requestId);
            assertThat(left.get("OUTCOME")).isEqualTo("client_closed");
            assertThat(left.get("COST_SOURCE")).isNotEqualTo("settled");
            assertThat(generationLookups(upstream)).isZero();

            upstream.whenGet(
                    "/generation",
                    FakeUpstream.json(
                            200,
                            "{\"data\":{\"id\":\"gen-resume-1\",\"native_tokens_prompt\":9,"
                                    + "\"native_tokens_completion\":42,\"total_cost\":0.0042}}",
                            Map.of()));
            try (GatewayInstance second = GatewayInstance.replica(
                    upstream.baseUrl(),
                    database,
                    "gateway.usage.settlement-delay=100ms",
                    "gateway.usage.flush-interval=50ms",
                    "gateway.usage.fetch-pricing=false")) {
                await().atMost(Duration.ofSeconds(15))
                        .until(() -> "settled".equals(row(database, requestId).get("COST_SOURCE")));
                Map<String, Object> settled = row(database, requestId);
                assertThat(((Number) settled.get("PROMPT_TOKENS")).longValue()).isEqualTo(9);
                assertThat(((Number) settled.get("COMPLETION_TOKENS")).longValue())
                        .isEqualTo(42);
                assertThat(settled.get("ESTIMATED")).isEqualTo(false);
                // Once: the second start asked for the generation one time.
                Thread.sleep(500);
                assertThat(generationLookups(upstream)).isEqualTo(1);
            }
        }
    }

    private static long generationLookups(FakeUpstream upstream) {
        return upstream.requests().stream()
                .filter(r -> r.path().startsWith("/api/v1/generation"))
                .count();
    }

    /** The ledger row of a request (column names as H2 reports them), or null. */
    private static Map<String, Object> row(String database, String requestId) throws Exception {
        try (var connection = DriverManager.getConnection("jdbc:h2:mem:" + database + ";DB_CLOSE_DELAY=-1", "sa", "");
                var statement = connection.prepareStatement(
                        "SELECT outcome, cost_source, prompt_tokens, completion_tokens, estimated FROM usage"
                                + " WHERE request_id = ?")) {
            statement.setString(1, requestId);
            try (var rows = statement.executeQuery()) {
                if (!rows.next()) {
                    return null;
                }
                Map<String, Object> row = new java.util.HashMap<>();
                var meta = rows.getMetaData();
                for (int i = 1; i <= meta.getColumnCount(); i++) {
                    row.put(meta.getColumnLabel(i).toUpperCase(java.util.Locale.ROOT), rows.getObject(i));
                }
                return row;
            }
        }
    }
}
