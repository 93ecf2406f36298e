package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.switchboard.testing.AdminApi;
import io.switchboard.testing.FaultProxy;
import io.switchboard.testing.GatewayInstance;
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

    private static SharedDatabaseReplicas replicas;

    @BeforeAll
    static void start() {
        replicas = SharedDatabaseReplicas.start(Map.of("gateway.ratelimit.redis-url", RedisTestServer.url()));
    }

    @AfterAll
    static void stop() {
        if (replicas != null) {
            replicas.close();
        }
    }

    @Test
    void revokedKeyIsRefusedOnEveryReplicaWithinOneSecond() {
        replicas.assertRevokedKeyRefusedOnTheSecondWithinASecond("replicated", PostgresKeysIT::awaitSubscribed);
    }

    @Test
    void aChangeMissedWhileSubscribedToNothingIsReadOnceSubscribedAgain() {
        replicas.assertMissedRevocationReadOnceTheChannelIsBack(
                "missed-on-redis", PostgresKeysIT::awaitSubscribed, PostgresKeysIT::dropEverySubscriber);
    }

    /**
     * A replica that started while Redis was down serves (and caches) keys before its first
     * subscription; a change announced meanwhile was lost, and the first subscription read nothing
     * again, so a revoked key kept working there until the cache's refresh (ten minutes here).
     */
    @Test
    void aReplicaStartedWhileRedisWasDownReadsItsCachedKeysAgainOnceSubscribed() {
        RedisURI target = RedisURI.create(RedisTestServer.url());
        try (FaultProxy redis = FaultProxy.to(target.getHost(), target.getPort())) {
            redis.refuse();
            Map<String, String> settings = new HashMap<>(replicas.database.springProperties());
            settings.put("gateway.admin.key", SharedDatabaseReplicas.ADMIN_KEY);
            settings.put("gateway.keys.cache.refresh", "10m");
            settings.put("gateway.keys.lookup-timeout", "10s");
            settings.put("gateway.ratelimit.redis-url", "redis://127.0.0.1:" + redis.port());
            try (GatewayInstance late = GatewayInstance.start(settings)) {
                AdminApi onLate = new AdminApi(late.gateway(), SharedDatabaseReplicas.ADMIN_KEY);
                JsonNode created = replicas.adminOnFirst().createKey("{\"name\":\"before-redis\"}");
                String secret = created.get("key").asString();
                assertThat(onLate.probe(secret)).isEqualTo(404); // now cached there
                replicas.database.execute("UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP WHERE id = '"
                        + created.get("id").asString() + "'");

                redis.pass();
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> ((RedisKeyChangeBus) late.bean(KeyChangeBus.class)).listening());

                await().atMost(Duration.ofSeconds(5)).until(() -> onLate.probe(secret) == 401);
            }
        }
    }

    private static void awaitSubscribed() {
        await().atMost(Duration.ofSeconds(20))
                .until(() -> ((RedisKeyChangeBus) replicas.second.bean(KeyChangeBus.class)).listening());
    }

    /** Redis drops every subscriber; Lettuce connects and subscribes again by itself. */
    private static void dropEverySubscriber() {
        RedisClient client = RedisClient.create(RedisTestServer.url());
        try (var direct = client.connect()) {
            assertThat(direct.sync().clientKill(KillArgs.Builder.typePubsub())).isPositive();
        } finally {
            client.shutdown();
        }
    }

    @Test
    void editsOnOneReplicaAreSeenOnTheOtherAndAuditedInTheSharedDatabase() {
        AdminApi adminOnFirst = replicas.adminOnFirst();
        AdminApi onSecond = replicas.adminOnSecond();
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
