package io.switchboard.faults;

import static io.switchboard.faults.DependencyFaults.ADMIN_KEY;
import static io.switchboard.faults.DependencyFaults.chat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.switchboard.faults.DependencyFaults.Timed;
import io.switchboard.testing.AdminApi;
import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FaultProxy;
import io.switchboard.testing.GatewayInstance;
import io.switchboard.testing.LedgerRows;
import io.switchboard.testing.RedisTestServer;
import io.switchboard.testing.TestGateway;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Redis refusing connections, and Redis accepting but never answering, through a {@link FaultProxy}
 * (the shared Redis keeps running): requests are answered within the explicit command timeout in
 * the {@code local} fall-back mode, key changes do not hang, and once Redis is back the limits are
 * counted in Redis again.
 */
class RedisFaultsIT {

    private static FakeUpstream upstream;
    private static RedisClient direct;
    private static StatefulRedisConnection<String, String> redis;

    private FaultProxy proxy;
    private GatewayInstance gateway;
    private String prefix;

    @BeforeAll
    static void connect() {
        upstream = FakeUpstream.start();
        RedisURI uri = RedisURI.create(RedisTestServer.url());
        uri.setTimeout(Duration.ofSeconds(5));
        direct = RedisClient.create(uri);
        redis = direct.connect();
    }

    @AfterAll
    static void disconnect() {
        if (redis != null) {
            redis.close();
            direct.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    @BeforeEach
    void start() {
        RedisURI target = RedisURI.create(RedisTestServer.url());
        proxy = FaultProxy.to(target.getHost(), target.getPort());
        prefix = "switchboard-faults:" + UUID.randomUUID() + ":";
        gateway = GatewayInstance.start(
                settings("redis://127.0.0.1:" + proxy.port(), Map.of("gateway.ratelimit.defaults.rpm", "1000")));
    }

    /** A gateway's settings: the static client key, limits in Redis at {@code redisUrl}, and {@code more}. */
    private Map<String, String> settings(String redisUrl, Map<String, String> more) {
        Map<String, String> settings = DependencyFaults.settings(upstream);
        settings.put("gateway.storage.path", "target/faults-redis/" + UUID.randomUUID());
        settings.put("gateway.keys.static[0].name", "test-client");
        settings.put("gateway.keys.static[0].secret", TestGateway.CLIENT_KEY);
        settings.put("gateway.ratelimit.redis-url", redisUrl);
        settings.put("gateway.ratelimit.key-prefix", prefix);
        settings.putAll(more);
        return settings;
    }

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    /**
     * A graceful stop (a rolling deploy's SIGTERM) while streams are open: they finish, and their
     * concurrency slots are given back in Redis, where the key's other replicas count them. The
     * limits' Redis client stopped first and the releases never reached it: each deploy left the
     * open streams' slots held in Redis for an hour.
     */
    @Test
    void aGracefulStopLetsOpenStreamsGiveTheirSlotsBackInRedis() throws Exception {
        gateway.close();
        gateway = GatewayInstance.start(
                settings(RedisTestServer.url(), Map.of("gateway.keys.static[0].max-concurrency", "4")));
        TestGateway client = gateway.gateway();
        int before = upstream.requestCount();
        List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<String>>> streams =
                new java.util.ArrayList<>();
        for (int i = 0; i < 2; i++) {
            upstream.enqueue(FakeUpstream.sse(List.of(
                    FakeUpstream.send(FakeUpstream.chunk("a")),
                    FakeUpstream.pause(Duration.ofMillis(600)),
                    FakeUpstream.send(FakeUpstream.chunk("b")),
                    FakeUpstream.pause(Duration.ofMillis(600)),
                    FakeUpstream.send(FakeUpstream.usageAndDone(3, 2)))));
            streams.add(client.http()
                    .sendAsync(
                            client.request("/v1/chat/completions")
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(
                                            "{\"model\":\"openai/gpt-5-nano\",\"stream\":true,\"messages\":[]}"))
                                    .build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString()));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> upstream.requestCount() == before + 2);
        String slots = prefix + "slots:static:test-client";
        assertThat(redis.sync().zcard(slots)).as("the key's slots in Redis").isEqualTo(2);

        gateway.close();
        for (var stream : streams) {
            java.net.http.HttpResponse<String> response = stream.get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).endsWith("data: [DONE]\n\n");
        }
        assertThat(redis.sync().zcard(slots))
                .as("slots still held in Redis after the stop")
                .isZero();
    }

    /**
     * {@code fail-mode=closed} while Redis is unreachable: a budgeted key is refused with a 503 to
     * retry, not a 402 that says its budget is spent (it was not).
     */
    @Test
    void failModeClosedRefusesABudgetedKeyAsUnavailableNotAsSpent() {
        gateway.close();
        proxy.refuse();
        gateway = GatewayInstance.start(settings(
                "redis://127.0.0.1:" + proxy.port(),
                Map.of("gateway.keys.static[0].budget-usd", "5", "gateway.ratelimit.fail-mode", "closed")));
        java.net.http.HttpResponse<String> refused =
                gateway.gateway().postJson("/v1/chat/completions", "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        assertThat(refused.body()).contains("\"code\":\"service_unavailable\"");
        assertThat(refused.headers().firstValue("Retry-After")).isPresent();
    }

    @Test
    void redisRefusingConnectionsFallsBackWithinTheCommandTimeoutAndSharesLimitsAgainWhenBack() {
        breakAndRecover(FaultProxy::refuse);
    }

    @Test
    void redisAcceptingButNeverAnsweringFallsBackWithinTheCommandTimeoutAndSharesLimitsAgainWhenBack() {
        breakAndRecover(FaultProxy::blackHole);
    }

    private void breakAndRecover(Consumer<FaultProxy> fault) {
        TestGateway client = gateway.gateway();
        assertThat(chat(client, TestGateway.CLIENT_KEY, "shared-1").status()).isEqualTo(200);
        long shared = remainingInRedis();
        assertThat(shared).isEqualTo(999);
        assertThat(fallbackActive()).isZero();

        fault.accept(proxy);
        for (int i = 0; i < 5; i++) {
            Timed answer = chat(client, TestGateway.CLIENT_KEY, "fallback-" + i);
            assertThat(answer.status()).isEqualTo(200);
            // command-timeout 250 ms (guarded at twice that): never Lettuce's 60 s.
            assertThat(answer.took()).isLessThan(Duration.ofMillis(1500));
        }
        assertThat(fallbackActive()).isEqualTo(1);
        assertThat(remainingInRedis()).isEqualTo(shared);
        keyChangesDoNotHang(client);

        proxy.pass();
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> fallbackActive() == 0);
        // Two requests' worth of evidence that the counter in Redis is the one in use again.
        assertThat(chat(client, TestGateway.CLIENT_KEY, "shared-2").status()).isEqualTo(200);
        assertThat(remainingInRedis()).isEqualTo(shared - 1);
        assertThat(chat(client, TestGateway.CLIENT_KEY, "shared-3").status()).isEqualTo(200);
        assertThat(remainingInRedis()).isEqualTo(shared - 2);
        // The ledger does not depend on Redis: every request of the three phases has its one row.
        LedgerRows.assertOneSuccessEach(
                client,
                ADMIN_KEY,
                List.of(
                        "shared-1",
                        "fallback-0",
                        "fallback-1",
                        "fallback-2",
                        "fallback-3",
                        "fallback-4",
                        "shared-2",
                        "shared-3"),
                11,
                7);
    }

    /** Revoking a key announces it over Redis: that must answer at once and take effect on this replica. */
    private static void keyChangesDoNotHang(TestGateway client) {
        AdminApi admin = new AdminApi(client, ADMIN_KEY);
        JsonNode created = admin.createKey("{\"name\":\"revoked-during-fault\"}");
        String secret = created.get("key").asString();
        assertThat(admin.probe(secret)).isEqualTo(404);
        long start = System.nanoTime();
        assertThat(admin.call("DELETE", "/admin/keys/" + created.get("id").asString(), null)
                        .statusCode())
                .isEqualTo(200);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
        assertThat(admin.probe(secret)).isEqualTo(401);
    }

    /** Requests left this minute in the key's bucket in Redis (the gateway's own counter, read directly). */
    private long remainingInRedis() {
        List<String> buckets = redis.sync().keys(prefix + "rl:*");
        assertThat(buckets).hasSize(1);
        return Long.parseLong(redis.sync().hget(buckets.get(0), "tokens"));
    }

    private int fallbackActive() {
        String metrics = gateway.gateway()
                .send(HttpRequest.newBuilder(gateway.gateway().uri("/actuator/prometheus"))
                        .timeout(Duration.ofSeconds(10))
                        .GET()
                        .build())
                .body();
        return metrics.lines()
                .filter(line -> line.startsWith("switchboard_ratelimit_fallback_active"))
                .map(line -> (int) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)))
                .findFirst()
                .orElseThrow(
                        () -> new AssertionError("no switchboard_ratelimit_fallback_active in /actuator/prometheus"));
    }
}
