package io.switchboard.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * The usage ledger as an operator reads it ({@code GET /admin/usage/recent}, the latest 1000 rows),
 * for tests that must show each request they sent left exactly one row.
 */
public final class LedgerRows {

    private LedgerRows() {}

    /** The rows of one request id among the latest 1000. */
    public static List<JsonNode> of(TestGateway gateway, String adminKey, String requestId) {
        return all(gateway, adminKey).getOrDefault(requestId, List.of());
    }

    /** The rows again after several of the tests' ledger flush intervals (50 ms) have passed. */
    public static Map<String, List<JsonNode>> allAfterAWhile(TestGateway gateway, String adminKey) {
        try {
            Thread.sleep(300);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return all(gateway, adminKey);
    }

    /** The latest 1000 rows by request id. */
    public static Map<String, List<JsonNode>> all(TestGateway gateway, String adminKey) {
        AdminApi admin = new AdminApi(gateway, adminKey);
        HttpResponse<String> recent = admin.call("GET", "/admin/usage/recent?limit=1000", null);
        assertThat(recent.statusCode()).as(recent.body()).isEqualTo(200);
        Map<String, List<JsonNode>> rows = new LinkedHashMap<>();
        for (JsonNode row : admin.json(recent).get("data")) {
            rows.computeIfAbsent(row.get("request_id").asString(), id -> new ArrayList<>())
                    .add(row);
        }
        return rows;
    }

    /**
     * Waits (10 s at most) until every request id has a row, then asserts each has exactly one: a
     * success, status 200, with the tokens the upstream reported and not an estimate.
     */
    public static void assertOneSuccessEach(
            TestGateway gateway, String adminKey, List<String> requestIds, long prompt, long completion) {
        Map<String, List<JsonNode>> rows = new LinkedHashMap<>();
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    rows.clear();
                    rows.putAll(all(gateway, adminKey));
                    return rows.keySet().containsAll(requestIds);
                });
        // Read again a few flushes later: a duplicate written after the first row (a replay of the
        // spill file or the crash journal, a retried batch) must fail too.
        rows.clear();
        rows.putAll(allAfterAWhile(gateway, adminKey));
        for (String requestId : requestIds) {
            List<JsonNode> mine = rows.get(requestId);
            assertThat(mine).as("ledger rows of request %s", requestId).hasSize(1);
            JsonNode row = mine.get(0);
            assertThat(row.get("status").asInt()).as("status in %s", row).isEqualTo(200);
            assertThat(row.get("outcome").asString()).as("outcome in %s", row).isEqualTo("success");
            assertThat(row.get("estimated").asBoolean())
                    .as("estimated in %s", row)
                    .isFalse();
            assertThat(row.get("prompt_tokens").asLong())
                    .as("prompt tokens in %s", row)
                    .isEqualTo(prompt);
            assertThat(row.get("completion_tokens").asLong())
                    .as("completion tokens in %s", row)
                    .isEqualTo(completion);
        }
    }
}
