package io.switchboard.faults;

import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FaultProxy;
import io.switchboard.testing.PostgresTestDatabase;
import io.switchboard.testing.TestGateway;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/** What the dependency fault tests share: the gateway's settings and a timed chat request with a key. */
final class DependencyFaults {

    static final String ADMIN_KEY = "faults-it-admin-secret-0123456789";
    static final String CHAT = "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}";

    private DependencyFaults() {}

    /** A gateway on {@code upstream} with the admin key, no price fetch, a fast ledger and a spill file of its own. */
    static Map<String, String> settings(FakeUpstream upstream) {
        Map<String, String> settings = new HashMap<>();
        settings.put("gateway.providers.openrouter.base-url", upstream.baseUrl());
        settings.put("gateway.providers.openrouter.api-key", TestGateway.UPSTREAM_KEY);
        settings.put("gateway.admin.key", ADMIN_KEY);
        settings.put("gateway.usage.fetch-pricing", "false");
        settings.put("gateway.usage.flush-interval", "50ms");
        settings.put("gateway.usage.spill-file", "target/faults-spill/" + UUID.randomUUID() + ".jsonl");
        return settings;
    }

    /**
     * The {@link #settings} of a gateway whose database is reached through {@code proxy}, with the
     * test client as a configured key (served while the database is down) and database retries at
     * most a second apart.
     */
    static Map<String, String> settingsThrough(FakeUpstream upstream, PostgresTestDatabase database, FaultProxy proxy) {
        Map<String, String> settings = settings(upstream);
        settings.putAll(database.springPropertiesThrough(proxy));
        settings.put("gateway.keys.static[0].name", "test-client");
        settings.put("gateway.keys.static[0].secret", TestGateway.CLIENT_KEY);
        settings.put("gateway.storage.migration-retry-max", "1s");
        settings.put("gateway.usage.retry-backoff-max", "1s");
        return settings;
    }

    /** The status of a GET of {@code path}, such as a health probe. */
    static int status(TestGateway client, String path) {
        return client.send(HttpRequest.newBuilder(client.uri(path))
                        .timeout(Duration.ofSeconds(10))
                        .GET()
                        .build())
                .statusCode();
    }

    /** One answered chat request: status, body, and how long it took. */
    record Timed(int status, String body, Duration took) {}

    static Timed chat(TestGateway gateway, String key, String requestId) {
        HttpRequest request = HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                .timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .header("X-Request-Id", requestId)
                .POST(HttpRequest.BodyPublishers.ofString(CHAT))
                .build();
        long start = System.nanoTime();
        HttpResponse<String> response = gateway.send(request);
        return new Timed(response.statusCode(), response.body(), Duration.ofNanos(System.nanoTime() - start));
    }

    /** The median time of {@code count} chat requests with {@code key}, each of which must be answered 200. */
    static Duration medianChat(TestGateway gateway, String key, String idPrefix, int count) {
        long[] nanos = new long[count];
        for (int i = 0; i < count; i++) {
            Timed answer = chat(gateway, key, idPrefix + "-" + i);
            if (answer.status() != 200) {
                throw new AssertionError(
                        "request " + idPrefix + "-" + i + " answered " + answer.status() + ": " + answer.body());
            }
            nanos[i] = answer.took().toNanos();
        }
        java.util.Arrays.sort(nanos);
        return Duration.ofNanos(nanos[count / 2]);
    }
}
