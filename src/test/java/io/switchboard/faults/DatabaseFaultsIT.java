package io.switchboard.faults;

import static io.switchboard.faults.DependencyFaults.ADMIN_KEY;
import static io.switchboard.faults.DependencyFaults.chat;
import static io.switchboard.faults.DependencyFaults.medianChat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.faults.DependencyFaults.Timed;
import io.switchboard.keys.ApiKeyFormat;
import io.switchboard.testing.AdminApi;
import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FaultProxy;
import io.switchboard.testing.GatewayInstance;
import io.switchboard.testing.PostgresTestDatabase;
import io.switchboard.usage.UsageLedger;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL lost or slow while the gateway runs, through a {@link FaultProxy} (the server itself is
 * shared and never stopped): keys already verified keep working at the same speed, unknown keys fail
 * closed with 503 within the lookup timeout, and the requests of the outage reach the ledger once the
 * database is back, once each.
 */
class DatabaseFaultsIT {

    private static final SecureRandom RANDOM = new SecureRandom();

    private static FakeUpstream upstream;
    private static PostgresTestDatabase database;
    private static FaultProxy proxy;
    private static GatewayInstance gateway;
    private static AdminApi admin;

    @BeforeAll
    static void start() {
        upstream = FakeUpstream.start();
        database = PostgresTestDatabase.create();
        proxy = FaultProxy.to(database.host(), database.port());
        Map<String, String> settings = DependencyFaults.settings(upstream);
        settings.putAll(database.springPropertiesThrough(proxy));
        // Replay soon after the database is back (the default backoff grows to 10 s), and spill
        // early so that the spill file is part of the path under test.
        settings.put("gateway.usage.retry-backoff-max", "1s");
        settings.put("gateway.usage.spill-threshold", "1");
        // A queue smaller than the requests made during one slow write (the journal's queue has the
        // same bound): the ledger must spill them, not drop them.
        settings.put("gateway.usage.queue-capacity", "20");
        gateway = GatewayInstance.start(settings);
        admin = new AdminApi(gateway.gateway(), ADMIN_KEY);
    }

    @AfterEach
    void healAndCheckNoRowTwice() throws InterruptedException {
        proxy.pass();
        // Past two retry backoffs (1 s here): a replay of the spill file or a retried batch that wrote
        // a row the database had already taken would show now, as a request id with two rows.
        Thread.sleep(2_500);
        assertThat(database.count("SELECT COUNT(*) - COUNT(DISTINCT request_id) FROM usage"))
                .as("usage rows written twice")
                .isZero();
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        if (database != null) {
            database.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    @Test
    void whileTheDatabaseIsDownVerifiedKeysWorkUnknownKeysGet503AndTheLedgerCatchesUp() {
        String key = admin.createKey("{\"name\":\"before-outage\"}").get("key").asString();
        String run = UUID.randomUUID().toString().substring(0, 8);
        medianChat(gateway.gateway(), key, "warm-" + run, 3);
        Duration before = medianChat(gateway.gateway(), key, "before-" + run, 7);

        proxy.refuse();
        Duration during = medianChat(gateway.gateway(), key, "during-" + run, 7);
        assertThat(during)
                .as("cached key latency with the database down (before: %s)", before)
                .isLessThan(before.multipliedBy(5).plusMillis(200));

        Timed unknown = chat(gateway.gateway(), ApiKeyFormat.generate(RANDOM), "unknown-" + run);
        assertThat(unknown.status()).isEqualTo(503);
        assertThat(unknown.body()).contains("\"type\":\"server_error\"").contains("\"code\":\"service_unavailable\"");
        assertThat(unknown.took()).isLessThan(Duration.ofSeconds(3));
        // The gateway's own health does not depend on the database: it still serves verified keys.
        assertThat(health()).isEqualTo(200);

        proxy.pass();
        // Both catch up, in either order: the ledger writes what it still queues before it replays
        // what it spilled during the outage (here it replayed the rows from before it 0.8 s later).
        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> {
                    assertThat(rows("during-" + run)).isEqualTo(7);
                    assertThat(rows("before-" + run)).isEqualTo(7);
                });
        assertThat(rows("unknown-" + run)).isZero();
        assertThat(database.count("SELECT COUNT(*) FROM usage WHERE request_id LIKE 'during-" + run
                        + "%' AND status = 200 AND prompt_tokens = 11 AND completion_tokens = 7 AND key_id <> ''"))
                .isEqualTo(7);
        assertThat(gateway.bean(UsageLedger.class).lost()).isZero();

        // Healthy again: unknown keys are refused as unknown, new keys work.
        assertThat(chat(gateway.gateway(), ApiKeyFormat.generate(RANDOM), "after-" + run)
                        .status())
                .isEqualTo(401);
        String fresh = admin.createKey("{\"name\":\"after-outage\"}").get("key").asString();
        assertThat(chat(gateway.gateway(), fresh, "fresh-" + run).status()).isEqualTo(200);
    }

    /**
     * A report asked for while the database is down is a 503, the CSV export too: not a 200 with the
     * header line and then a cut connection, which a scheduled export saves as a month without usage.
     */
    @Test
    void usageReportsAndTheExportAnswer503WhileTheDatabaseIsDown() {
        proxy.refuse();
        for (String path : List.of("/admin/usage", "/admin/usage/export.csv")) {
            HttpResponse<String> answer = admin.call("GET", path, null);
            assertThat(answer.statusCode()).as(path).isEqualTo(503);
            assertThat(answer.body())
                    .as(path)
                    .contains("\"code\":\"service_unavailable\"")
                    .doesNotContain("created_at,");
        }
        proxy.pass();
        HttpResponse<String> export = admin.call("GET", "/admin/usage/export.csv", null);
        assertThat(export.statusCode()).isEqualTo(200);
        assertThat(export.body()).startsWith("created_at,");
    }

    @Test
    void whileEveryQueryTakesTwoSecondsCachedKeysKeepTheirSpeedAndLookupsStayWithinTheirTimeout() {
        String key =
                admin.createKey("{\"name\":\"before-slowdown\"}").get("key").asString();
        String run = UUID.randomUUID().toString().substring(0, 8);
        medianChat(gateway.gateway(), key, "warm-" + run, 3);
        Duration before = medianChat(gateway.gateway(), key, "before-" + run, 7);

        UsageLedger ledger = gateway.bean(UsageLedger.class);
        long spilledBefore = ledger.spilled();
        proxy.delay(Duration.ofSeconds(2));
        Duration during = medianChat(gateway.gateway(), key, "slow-" + run, 30);
        assertThat(during)
                .as("cached key latency with a slow database (before: %s)", before)
                .isLessThan(before.multipliedBy(5).plusMillis(200));

        // More unknown keys at once than the pool has connections (10): every one is answered
        // within the lookup timeout (2 s), none waits behind the others for a connection.
        // A thread each, released together: the common pool has one thread on two cores and would
        // send them one after another, never contending for the pool at all.
        ExecutorService clients = Executors.newFixedThreadPool(24);
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Timed>> lookups = new ArrayList<>();
        try {
            for (int i = 0; i < 24; i++) {
                String unknown = ApiKeyFormat.generate(RANDOM);
                String id = "slow-unknown-" + run + "-" + i;
                lookups.add(CompletableFuture.supplyAsync(
                        () -> {
                            awaitQuietly(go);
                            return chat(gateway.gateway(), unknown, id);
                        },
                        clients));
            }
            long start = System.nanoTime();
            go.countDown();
            for (CompletableFuture<Timed> lookup : lookups) {
                Timed answer = lookup.join();
                assertThat(answer.status()).isIn(401, 503);
                assertThat(answer.took()).isLessThan(Duration.ofMillis(3500));
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start))
                    .as("all 24 answered together, not one after another")
                    .isLessThan(Duration.ofSeconds(6));
        } finally {
            clients.shutdownNow();
        }

        proxy.pass();
        await().atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(rows("slow-" + run + "-")).isEqualTo(30));
        // Slow, not failing: the thirty records came faster than the database took them.
        assertThat(ledger.spilled()).isGreaterThan(spilledBefore);
        assertThat(ledger.lost()).isZero();
        assertThat(chat(gateway.gateway(), ApiKeyFormat.generate(RANDOM), "after-" + run)
                        .status())
                .isEqualTo(401);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static long rows(String requestIdPrefix) {
        return database.count("SELECT COUNT(*) FROM usage WHERE request_id LIKE '" + requestIdPrefix + "%'");
    }

    private static int health() {
        return gateway.gateway()
                .send(java.net.http.HttpRequest.newBuilder(gateway.gateway().uri("/actuator/health"))
                        .timeout(Duration.ofSeconds(10))
                        .GET()
                        .build())
                .statusCode();
    }
}
