package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.testing.AdminApi;
import io.switchboard.testing.GatewayInstance;
import io.switchboard.testing.PostgresTestDatabase;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Two gateway replicas sharing one PostgreSQL schema, whose key caches would keep a key for minutes:
 * only an announcement between them can make a change visible on the other in time.
 */
final class SharedDatabaseReplicas implements AutoCloseable {

    static final String ADMIN_KEY = "shared-database-replicas-admin-secret";

    final PostgresTestDatabase database;
    final GatewayInstance first;
    final GatewayInstance second;

    private SharedDatabaseReplicas(PostgresTestDatabase database, GatewayInstance first, GatewayInstance second) {
        this.database = database;
        this.first = first;
        this.second = second;
    }

    /** Both replicas started with {@code extra} settings on top of the shared database and admin key. */
    static SharedDatabaseReplicas start(Map<String, String> extra) {
        PostgresTestDatabase database = PostgresTestDatabase.create();
        Map<String, String> settings = new HashMap<>(database.springProperties());
        settings.put("gateway.admin.key", ADMIN_KEY);
        settings.put("gateway.keys.cache.refresh", "10m");
        settings.put("gateway.keys.lookup-timeout", "10s");
        settings.putAll(extra);
        GatewayInstance first = null;
        try {
            first = GatewayInstance.start(settings);
            return new SharedDatabaseReplicas(database, first, GatewayInstance.start(settings));
        } catch (RuntimeException | Error e) {
            if (first != null) {
                first.close();
            }
            database.close();
            throw e;
        }
    }

    AdminApi adminOnFirst() {
        return new AdminApi(first.gateway(), ADMIN_KEY);
    }

    AdminApi adminOnSecond() {
        return new AdminApi(second.gateway(), ADMIN_KEY);
    }

    /**
     * Creates a key on the first replica, has the second cache it, revokes it on the first once
     * {@code awaitListening} returned, and checks that the second refuses it within a second.
     */
    void assertRevokedKeyRefusedOnTheSecondWithinASecond(String name, Runnable awaitListening) {
        AdminApi onFirst = adminOnFirst();
        AdminApi onSecond = adminOnSecond();
        JsonNode created = onFirst.createKey("{\"name\":\"" + name + "\"}");
        String secret = created.get("key").asString();
        assertThat(onSecond.probe(secret)).isEqualTo(404); // now cached on the second replica
        awaitListening.run();

        assertThat(onFirst.call("DELETE", "/admin/keys/" + created.get("id").asString(), null)
                        .statusCode())
                .isEqualTo(200);
        long revokedAt = System.nanoTime();
        assertThat(onFirst.probe(secret)).isEqualTo(401);
        await().atMost(Duration.ofSeconds(1))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> onSecond.probe(secret) == 401);
        assertThat(Duration.ofNanos(System.nanoTime() - revokedAt)).isLessThan(Duration.ofSeconds(1));
    }

    /**
     * Creates a key on the first replica, has the second cache it (for ten minutes), and once
     * {@code awaitListening} returned revokes it in the database with no announcement: as a change
     * announced while the replicas' channels were down. Then {@code cutChannels} cuts them, and the
     * second must refuse the key once its channel is back.
     */
    void assertMissedRevocationReadOnceTheChannelIsBack(String name, Runnable awaitListening, Runnable cutChannels) {
        AdminApi onSecond = adminOnSecond();
        JsonNode created = adminOnFirst().createKey("{\"name\":\"" + name + "\"}");
        String secret = created.get("key").asString();
        assertThat(onSecond.probe(secret)).isEqualTo(404);
        awaitListening.run();
        database.execute("UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP WHERE id = '"
                + created.get("id").asString() + "'");

        cutChannels.run();

        // It once kept the key until the cache's refresh, and then let one more request through.
        await().atMost(Duration.ofSeconds(20)).until(() -> onSecond.probe(secret) == 401);
    }

    @Override
    public void close() {
        try {
            first.close();
            second.close();
        } finally {
            database.close();
        }
    }
}
