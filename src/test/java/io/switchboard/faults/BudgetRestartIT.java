package io.switchboard.faults;

import static io.switchboard.faults.DependencyFaults.CHAT;
import static io.switchboard.faults.DependencyFaults.chat;
import static io.switchboard.faults.DependencyFaults.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.keys.ApiKeyFormat;
import io.switchboard.storage.SchemaMigrations;
import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FaultProxy;
import io.switchboard.testing.GatewayInstance;
import io.switchboard.testing.PostgresTestDatabase;
import io.switchboard.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A gateway restarted while its database is unreachable does not know what budgeted keys spent
 * before: it refuses them (503) instead of letting a used-up budget be spent again, serves keys
 * without a budget, and once the ledger is readable enforces the budgets with the past spend.
 */
class BudgetRestartIT {

    @Test
    void budgetedKeysAreRefusedUntilTheLedgerIsReadThenTheirPastSpendCounts() {
        SecureRandom random = new SecureRandom();
        String spentKey = ApiKeyFormat.generate(random);
        String freshKey = ApiKeyFormat.generate(random);
        try (FakeUpstream upstream = FakeUpstream.start();
                PostgresTestDatabase database = PostgresTestDatabase.create();
                FaultProxy proxy = FaultProxy.to(database.host(), database.port())) {
            migrate(database);
            // Earlier runs: "spent" used up its 0.01 USD budget, "fresh" used half of its 1 USD.
            ledgerRow(database, "static:spent", "0.006", "now() - interval '2 hours'");
            ledgerRow(database, "static:spent", "0.006", "now() - interval '1 hour'");
            ledgerRow(database, "static:fresh", "0.5", "now() - interval '1 hour'");
            // A row of the restarted process itself (created after it started): its own limits count
            // those as they settle, so the seed must not count it again.
            ledgerRow(database, "static:fresh", "0.8", "now() + interval '1 hour'");

            proxy.refuse();
            Map<String, String> settings = DependencyFaults.settingsThrough(upstream, database, proxy);
            settings.put("gateway.keys.static[1].name", "spent");
            settings.put("gateway.keys.static[1].secret", spentKey);
            settings.put("gateway.keys.static[1].budget-usd", "0.01");
            settings.put("gateway.keys.static[2].name", "fresh");
            settings.put("gateway.keys.static[2].secret", freshKey);
            settings.put("gateway.keys.static[2].budget-usd", "1");
            try (GatewayInstance gateway = GatewayInstance.start(settings)) {
                TestGateway client = gateway.gateway();
                assertThat(status(client, "/actuator/health/readiness")).isEqualTo(503);
                HttpResponse<String> refused = chatResponse(client, spentKey);
                assertThat(refused.statusCode()).isEqualTo(503);
                assertThat(refused.body())
                        .contains("\"code\":\"service_unavailable\"")
                        .contains("Budgets are not known yet");
                assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
                assertThat(chat(client, freshKey, "fresh-while-down").status()).isEqualTo(503);
                assertThat(chat(client, TestGateway.CLIENT_KEY, "unbudgeted-while-down")
                                .status())
                        .as("a key without a budget does not depend on past spend")
                        .isEqualTo(200);

                proxy.pass();
                await().atMost(Duration.ofSeconds(15))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() -> status(client, "/actuator/health/readiness") == 200);
                DependencyFaults.Timed spent = chat(client, spentKey, "spent-after");
                assertThat(spent.status()).isEqualTo(402);
                assertThat(spent.body()).contains("\"code\":\"budget_exceeded\"");
                assertThat(chat(client, freshKey, "fresh-after").status())
                        .as("0.5 USD of earlier runs is below the 1 USD budget")
                        .isEqualTo(200);
            }
        }
    }

    private static void migrate(PostgresTestDatabase database) {
        Map<String, String> spring = database.springProperties();
        SchemaMigrations.configure(
                        database.jdbcUrl(), spring.get("spring.r2dbc.username"), spring.get("spring.r2dbc.password"))
                .load()
                .migrate();
    }

    private static void ledgerRow(PostgresTestDatabase database, String keyId, String costUsd, String createdAt) {
        database.execute("INSERT INTO " + database.schema() + ".usage (entry_id, request_id, key_id, key_name,"
                + " endpoint, requested_model, model, provider, stream, status, outcome, prompt_tokens,"
                + " completion_tokens, total_tokens, cached_tokens, reasoning_tokens, estimated, cost_usd,"
                + " cost_source, latency_ms, created_at) VALUES ('" + UUID.randomUUID() + "', 'earlier-run', '"
                + keyId + "', '" + keyId.substring(keyId.indexOf(':') + 1) + "', 'chat', 'openai/gpt-5-nano',"
                + " 'openai/gpt-5-nano', 'openrouter', false, 200, 'success', 10, 10, 20, 0, 0, false, " + costUsd
                + ", 'upstream', 100, " + createdAt + ")");
    }

    private static HttpResponse<String> chatResponse(TestGateway client, String key) {
        return client.send(HttpRequest.newBuilder(client.uri("/v1/chat/completions"))
                .timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(CHAT))
                .build());
    }
}
