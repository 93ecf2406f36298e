package io.switchboard.usage;

import static io.switchboard.testing.FakeUpstream.chunk;
import static io.switchboard.testing.FakeUpstream.pause;
import static io.switchboard.testing.FakeUpstream.send;
import static io.switchboard.testing.FakeUpstream.usageAndDone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.testing.AdminApi;
import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.GatewayInstance;
import io.switchboard.testing.GatewayProcess;
import io.switchboard.testing.TestGateway;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

/**
 * Issue 6, "nothing lost, even on a crash": a gateway process killed with SIGKILL while streams are
 * in flight, restarted on the same data, has exactly one ledger row for every request its upstream
 * saw; the cut-off ones are {@code interrupted}, the completed ones keep their tokens. And a gateway
 * stopped with SIGTERM under load has written every row to the database itself before it exits.
 */
class CrashRecoveryIT {

    private static final int CLIENTS = 6;
    private static final int KILL_AFTER_UPSTREAM_REQUESTS = 120;
    private static final String JSON_BODY = "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}";
    private static final String STREAM_BODY = "{\"model\":\"openai/gpt-5-nano\",\"stream\":true,\"messages\":[]}";

    /** Request id to the moment its client had the whole answer ({@code System.nanoTime()}). */
    private final Map<String, Long> completed = new ConcurrentHashMap<>();
    /**
     * An ended record reaches the journal up to {@code journal.flush-interval} (10 ms) after the client
     * has its last byte; one that ended within this window before the kill may be replayed as
     * {@code interrupted}, as documented. Generous for a loaded 2-core machine.
     */
    private static final long JOURNAL_WINDOW_NANOS = Duration.ofMillis(250).toNanos();

    private volatile long stoppedAt;
    private volatile boolean loading = true;

    @Test
    void aGatewayKilledUnderLoadHasOneRowPerUpstreamRequestAfterItsRestart() throws Exception {
        Path data = Files.createDirectories(Path.of("target", "crash-it-" + UUID.randomUUID()));
        try (FakeUpstream upstream = FakeUpstream.start()) {
            enqueueReplies(upstream);
            Map<String, String> settings = settings(upstream, data);

            stopUnderLoad(upstream, settings, data, GatewayProcess::kill);
            Map<String, Integer> seenUpstream = upstreamRequestIds(upstream);

            try (GatewayProcess second = GatewayProcess.start(settings, data.resolve("second.log"))) {
                Map<String, List<JsonNode>> rows = rowsByRequestId(second.gateway());

                assertThat(seenUpstream.values())
                        .as("the fake saw each request once")
                        .allMatch(n -> n == 1);
                for (String id : seenUpstream.keySet()) {
                    assertThat(rows.get(id)).as("rows of " + id).hasSize(1);
                }
                rows.forEach(
                        (id, forId) -> assertThat(forId).as("rows of " + id).hasSize(1));
                Map<String, JsonNode> row = new HashMap<>();
                rows.forEach((id, forId) -> row.put(id, forId.get(0)));
                // A row the upstream never saw: admitted, then killed before the request went out.
                // Any other row is a success with the upstream's whole numbers, or a request the kill
                // cut off: never a success counted short (whether the client saw its end or not).
                row.forEach((id, r) -> {
                    String outcome = r.get("outcome").asString();
                    if (!seenUpstream.containsKey(id)) {
                        assertThat(outcome).as(id).isEqualTo("interrupted");
                    } else if (!outcome.equals("interrupted")) {
                        assertThat(outcome).as(id).isEqualTo("success");
                        assertFullUsage(id, r);
                    }
                });
                for (Map.Entry<String, Long> done : completed.entrySet()) {
                    String id = done.getKey();
                    JsonNode r = row.get(id);
                    assertThat(r).as("row of completed " + id).isNotNull();
                    if (stoppedAt - done.getValue() < JOURNAL_WINDOW_NANOS) {
                        // Its ended record may not have been in the file yet: a row, tokens unknown.
                        assertThat(r.get("outcome").asString()).as(id).isIn("success", "interrupted");
                        continue;
                    }
                    assertThat(r.get("outcome").asString()).as(id).isEqualTo("success");
                    assertFullUsage(id, r);
                }
                long cutOff = row.entrySet().stream()
                        .filter(e -> seenUpstream.containsKey(e.getKey()))
                        .filter(e -> e.getValue().get("outcome").asString().equals("interrupted"))
                        .count();
                assertThat(cutOff).as("streams cut off by the kill").isPositive();
                assertThat(completed.size())
                        .as("requests completed before the kill")
                        .isGreaterThan(50);
            }
        }
    }

    @Test
    void aGatewayStoppedWithSigtermUnderLoadHasWrittenEveryRowToTheDatabaseBeforeItExits() throws Exception {
        stopWithSigtermUnderLoadAndCheckTheDatabase(Map.of());
    }

    /**
     * The same with an H2 file named in {@code spring.r2dbc.url} rather than the embedded default: its
     * r2dbc connections once lacked {@code DB_CLOSE_ON_EXIT=FALSE}, so H2's own shutdown hook closed
     * the database while the ledger still drained into it, and the last batches went to the spill file.
     */
    @Test
    void aGatewayOnAnH2FileOfItsOwnStoppedWithSigtermUnderLoadHasWrittenEveryRowToIt() throws Exception {
        Path own = Files.createDirectories(Path.of("target", "own-h2-" + UUID.randomUUID()))
                .toAbsolutePath();
        stopWithSigtermUnderLoadAndCheckTheDatabase(
                Map.of("spring.r2dbc.url", "r2dbc:h2:file:///" + own.resolve("ledger")));
    }

    private void stopWithSigtermUnderLoadAndCheckTheDatabase(Map<String, String> extra) throws Exception {
        Path data = Files.createDirectories(Path.of("target", "sigterm-it-" + UUID.randomUUID()));
        try (FakeUpstream upstream = FakeUpstream.start()) {
            enqueueReplies(upstream);
            Map<String, String> settings = settings(upstream, data);
            settings.putAll(extra);

            stopUnderLoad(upstream, settings, data, GatewayProcess::close);
            Map<String, Integer> seenUpstream = upstreamRequestIds(upstream);

            assertThat(Files.readString(data.resolve("first.log")))
                    .as("the ledger's last batches reached the database")
                    .doesNotContain("Usage ledger write failed");
            Path spill = data.resolve("spill.jsonl");
            assertThat(!Files.exists(spill) || Files.size(spill) == 0)
                    .as("nothing spilled")
                    .isTrue();

            // Without the journal the second gateway shows only what the first wrote to the database.
            Map<String, String> withoutJournal = new LinkedHashMap<>(settings);
            withoutJournal.put("gateway.usage.journal.enabled", "false");
            try (GatewayProcess second = GatewayProcess.start(withoutJournal, data.resolve("second.log"))) {
                Map<String, List<JsonNode>> rows = rowsByRequestId(second.gateway());
                assertThat(rows.keySet()).containsExactlyInAnyOrderElementsOf(seenUpstream.keySet());
                rows.forEach((id, forId) -> {
                    assertThat(forId).as("rows of " + id).hasSize(1);
                    // Graceful: every request the upstream saw was let finish.
                    assertThat(forId.get(0).get("outcome").asString()).as(id).isEqualTo("success");
                });
                assertThat(completed.keySet()).containsExactlyInAnyOrderElementsOf(seenUpstream.keySet());
            }
        }
    }

    @Test
    void aStreamCutOffByAKillIsSettledAfterTheRestartFromItsJournaledGenerationId() throws Exception {
        Path data = Files.createDirectories(Path.of("target", "crash-generation-it-" + UUID.randomUUID()));
        try (FakeUpstream upstream = FakeUpstream.start()) {
            // Headers with the generation id and one event, then the stream stays open until the kill.
            upstream.enqueue(FakeUpstream.sse(
                    Map.of("X-Generation-Id", "gen-crash-1"), List.of(send(chunk("a")), response -> Mono.never())));
            upstream.whenGet(
                    "/generation",
                    FakeUpstream.json(
                            200,
                            "{\"data\":{\"id\":\"gen-crash-1\",\"tokens_prompt\":9,\"tokens_completion\":42,"
                                    + "\"total_cost\":0.0042}}",
                            Map.of()));
            Map<String, String> settings = settings(upstream, data);
            settings.put("gateway.usage.settlement-delay", "100ms");
            Path journal = data.resolve("usage-journal.log");

            try (GatewayProcess first = GatewayProcess.start(settings, data.resolve("first.log"))) {
                HttpResponse<InputStream> response = first.gateway()
                        .http()
                        .send(
                                first.gateway()
                                        .request("/v1/chat/completions")
                                        .header("Content-Type", "application/json")
                                        .header("X-Request-Id", "crash-generation-1")
                                        .POST(HttpRequest.BodyPublishers.ofString(STREAM_BODY))
                                        .build(),
                                HttpResponse.BodyHandlers.ofInputStream());
                InputStream body = response.body();
                assertThat(new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8)).readLine())
                        .startsWith("data:");
                await().atMost(Duration.ofSeconds(10))
                        .pollInterval(Duration.ofMillis(20))
                        .until(() -> Files.readString(journal).contains("gen-crash-1"));
                first.kill();
                try {
                    body.close();
                } catch (IOException cut) {
                    // the kill cut this stream
                }
            }

            try (GatewayProcess second = GatewayProcess.start(settings, data.resolve("second.log"))) {
                await().atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> {
                            List<JsonNode> rows =
                                    rowsByRequestId(second.gateway()).get("crash-generation-1");
                            return rows != null && !rows.get(0).get("estimated").asBoolean();
                        });
                List<JsonNode> rows = rowsByRequestId(second.gateway()).get("crash-generation-1");
                assertThat(rows).hasSize(1);
                JsonNode row = rows.get(0);
                assertThat(row.get("outcome").asString()).isEqualTo("interrupted");
                assertThat(row.get("prompt_tokens").asLong()).isEqualTo(9);
                assertThat(row.get("completion_tokens").asLong()).isEqualTo(42);
                assertThat(row.get("cost_usd").decimalValue()).isEqualByComparingTo("0.0042");
                assertThat(upstream.requests())
                        .filteredOn(r -> r.method().equals("GET"))
                        .extracting(FakeUpstream.Received::path)
                        .contains("/api/v1/generation?id=gen-crash-1");
                // The listeners heard of it too (limits charge the key's budget the same way).
                String metrics = second.gateway()
                        .send(second.gateway()
                                .request("/actuator/prometheus")
                                .GET()
                                .build())
                        .body();
                assertThat(metrics).containsPattern("(?m)^switchboard_cost_usd_total\\{[^}]*\\} 0\\.0042$");
            }
        }
    }

    /** The fake upstream's own numbers: a streamed answer reports 10 + 20 tokens, a plain one 11 + 7. */
    private static void assertFullUsage(String id, JsonNode r) {
        boolean streamed = r.get("stream").asBoolean();
        assertThat(r.get("prompt_tokens").asLong()).as(id).isEqualTo(streamed ? 10 : 11);
        assertThat(r.get("completion_tokens").asLong()).as(id).isEqualTo(streamed ? 20 : 7);
        assertThat(r.get("estimated").asBoolean()).as(id).isFalse();
    }

    /** Starts a gateway process, loads it with {@link #CLIENTS} clients, and stops it once the upstream has seen enough. */
    private void stopUnderLoad(FakeUpstream upstream, Map<String, String> settings, Path data, Stop stop)
            throws Exception {
        GatewayProcess first = GatewayProcess.start(settings, data.resolve("first.log"));
        CountDownLatch stopped = new CountDownLatch(CLIENTS);
        for (int i = 0; i < CLIENTS; i++) {
            int client = i;
            Thread thread = new Thread(() -> load(first.gateway(), client, stopped), "crash-it-client-" + i);
            thread.setDaemon(true);
            thread.start();
        }
        await().atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> upstream.requestCount() >= KILL_AFTER_UPSTREAM_REQUESTS);
        stoppedAt = System.nanoTime();
        stop.apply(first);
        loading = false;
        assertThat(stopped.await(30, TimeUnit.SECONDS)).isTrue();
    }

    private interface Stop {
        void apply(GatewayProcess gateway) throws InterruptedException;
    }

    /** Streamed or plain answers, chosen by the request's {@code stream} flag, for up to 1,000 requests. */
    private static void enqueueReplies(FakeUpstream upstream) {
        FakeUpstream.Reply stream = FakeUpstream.sse(List.of(
                send(chunk("a")),
                pause(Duration.ofMillis(150)),
                send(chunk("b")),
                pause(Duration.ofMillis(150)),
                send(chunk("c")),
                pause(Duration.ofMillis(150)),
                send(usageAndDone(10, 20))));
        FakeUpstream.Reply json = FakeUpstream.chatCompletion("ok", 11, 7);
        FakeUpstream.Reply byBody = (request, response, received) ->
                (received.bodyText().contains("\"stream\":true") ? stream : json).answer(request, response, received);
        for (int i = 0; i < 1000; i++) {
            upstream.enqueue(byBody);
        }
    }

    private static Map<String, String> settings(FakeUpstream upstream, Path data) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("gateway.storage.path", data.toAbsolutePath().toString());
        settings.put(
                "gateway.usage.spill-file",
                data.resolve("spill.jsonl").toAbsolutePath().toString());
        settings.putAll(GatewayInstance.upstreamAndKeys(upstream.baseUrl()));
        settings.put("spring.data.redis.url", "redis://127.0.0.1:9");
        return settings;
    }

    /** One client: alternates streamed and plain requests, each with its own X-Request-Id, until the kill. */
    private void load(TestGateway gateway, int client, CountDownLatch stopped) {
        HttpClient http = gateway.http();
        try {
            for (int i = 0; loading; i++) {
                String id = "crash-" + client + "-" + i;
                boolean streamed = (client + i) % 2 == 0;
                HttpRequest request = gateway.request("/v1/chat/completions")
                        .header("Content-Type", "application/json")
                        .header("X-Request-Id", id)
                        .POST(HttpRequest.BodyPublishers.ofString(streamed ? STREAM_BODY : JSON_BODY))
                        .build();
                try {
                    HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
                    String body;
                    try (InputStream in = response.body()) {
                        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    }
                    boolean whole = streamed ? body.contains("[DONE]") : body.contains("\"usage\"");
                    if (response.statusCode() == 200 && whole) {
                        completed.put(id, System.nanoTime());
                    }
                } catch (IOException killed) {
                    // the gateway died under this request
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stopped.countDown();
        }
    }

    private static Map<String, Integer> upstreamRequestIds(FakeUpstream upstream) {
        return upstream.requests().stream()
                .filter(r -> r.method().equals("POST"))
                .collect(Collectors.toMap(r -> r.header("X-Request-Id"), r -> 1, Integer::sum));
    }

    private static Map<String, List<JsonNode>> rowsByRequestId(TestGateway gateway) {
        AdminApi admin = new AdminApi(gateway, TestGateway.ADMIN_KEY);
        HttpResponse<String> response = admin.call("GET", "/admin/usage/recent?limit=1000", null);
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode data = admin.json(response).get("data");
        assertThat(data.size()).as("rows (the report's limit is 1000)").isLessThan(1000);
        Map<String, List<JsonNode>> rows = new HashMap<>();
        for (JsonNode row : data) {
            rows.computeIfAbsent(row.get("request_id").asString(), id -> new ArrayList<>())
                    .add(row);
        }
        return rows;
    }
}
