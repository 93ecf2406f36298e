package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.testing.AdminApi;
import io.switchboard.testing.GatewayInstance;
import io.switchboard.testing.PostgresTestDatabase;
import io.switchboard.testing.RedisTestServer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Two gateway replicas sharing one PostgreSQL schema and one Redis: the schema is migrated on
 * PostgreSQL, what one replica issues the other accepts, and what one revokes the other refuses within
 * a second although its cache would keep the key for minutes.
 */
class PostgresKeysIT {

    private static final String ADMIN_KEY = "postgres-it-admin-secret";

    private static PostgresTestDatabase database;
    private static GatewayInstance first;
    private static GatewayInstance second;

    @BeforeAll
    static void start() {
        database = PostgresTestDatabase.create();
        Map<String, String> settings = new HashMap<>(database.springProperties());
        settings.put("gateway.ratelimit.redis-url", RedisTestServer.url());
        settings.put("gateway.admin.key", ADMIN_KEY);
        // Only the Redis announcement can make a change visible on the other replica in time.
        settings.put("gateway.keys.cache.refresh", "10m");
        settings.put("gateway.keys.lookup-timeout", "10s");
        first = GatewayInstance.start(settings);
        second = GatewayInstance.start(settings);
    }

    @AfterAll
    static void stop() {
        if (first != null) {
            first.close();
        }
        if (second != null) {
            second.close();
        }
        if (database != null) {
            database.close();
        }
    }

    @Test
    void revokedKeyIsRefusedOnEveryReplicaWithinOneSecond() {
        AdminApi adminOnFirst = new AdminApi(first.gateway(), ADMIN_KEY);
        AdminApi onSecond = new AdminApi(second.gateway(), ADMIN_KEY);
        JsonNode created = adminOnFirst.createKey("{\"name\":\"replicated\"}");
        String secret = created.get("key").asString();
        assertThat(onSecond.probe(secret)).isEqualTo(404); // now cached on the second replica
        await().atMost(Duration.ofSeconds(20))
                .until(() -> ((RedisKeyChangeBus) second.bean(KeyChangeBus.class)).listening());

        assertThat(adminOnFirst
                        .call("DELETE", "/admin/keys/" + created.get("id").asString(), null)
                        .statusCode())
                .isEqualTo(200);
        long revokedAt = System.nanoTime();
        assertThat(adminOnFirst.probe(secret)).isEqualTo(401);
        await().atMost(Duration.ofSeconds(1))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> onSecond.probe(secret) == 401);
        assertThat(Duration.ofNanos(System.nanoTime() - revokedAt)).isLessThan(Duration.ofSeconds(1));
    }

    @Test
    void editsOnOneReplicaAreSeenOnTheOtherAndAuditedInTheSharedDatabase() {
        AdminApi adminOnFirst = new AdminApi(first.gateway(), ADMIN_KEY);
        AdminApi onSecond = new AdminApi(second.gateway(), ADMIN_KEY);
        JsonNode created = adminOnFirst.createKey(
                "{\"name\":\"shared\",\"budget_usd\":12.5,\"metadata\":{\"team\":\"pg\"},\"models\":[\"openai/*\"]}");
        String id = created.get("id").asString();
        assertThat(adminOnFirst
                        .call("PATCH", "/admin/keys/" + id, "{\"rpm\":30,\"expires_at\":\"2099-01-01T00:00:00Z\"}")
                        .statusCode())
                .isEqualTo(200);

        JsonNode seen = onSecond.json(onSecond.call("GET", "/admin/keys/" + id, null));
        assertThat(seen.get("rpm").asLong()).isEqualTo(30);
        assertThat(seen.get("budget_usd").decimalValue()).isEqualByComparingTo("12.5");
        assertThat(seen.get("expires_at").asString()).isEqualTo("2099-01-01T00:00:00Z");
        assertThat(onSecond.json(onSecond.call("GET", "/admin/keys?metadata.team=pg", null))
                        .get("total")
                        .asLong())
                .isEqualTo(1);
        assertThat(onSecond.json(onSecond.call("GET", "/admin/audit?key_id=" + id, null))
                        .get("data"))
                .hasSize(2);
        assertThat(onSecond.probe(created.get("key").asString())).isEqualTo(404);
    }
}
