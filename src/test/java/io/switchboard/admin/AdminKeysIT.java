package io.switchboard.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.keys.ApiKey;
import io.switchboard.keys.KeyRepository;
import io.switchboard.keys.KeyRevokedException;
import io.switchboard.keys.KeyService;
import io.switchboard.testing.AdminApi;
import io.switchboard.testing.GatewayIntegrationTest;
import io.switchboard.testing.TestGateway;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.r2dbc.core.DatabaseClient;
import tools.jackson.databind.JsonNode;

/** The admin API over real HTTP: issuing, reading, editing, rotating, revoking, validation and the audit trail. */
@GatewayIntegrationTest
class AdminKeysIT {

    @LocalServerPort
    int port;

    AdminApi admin;

    /** Two callers, for the requests a test sends at the same moment. */
    final ExecutorService callers = Executors.newFixedThreadPool(2);

    @Autowired
    KeyRepository repository;

    @Autowired
    DatabaseClient db;

    @Autowired
    KeyService keys;

    @BeforeEach
    void setUp() {
        admin = new AdminApi(new TestGateway(port), TestGateway.ADMIN_KEY);
    }

    @AfterEach
    void stopCallers() {
        callers.shutdownNow();
    }

    private static String unique(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void createdKeyShowsItsSecretOnceAndNeverAgain() {
        String name = unique("shown-once");
        JsonNode created = admin.createKey("{\"name\":\"" + name + "\",\"models\":[\"openai/*\"],\"rpm\":60,"
                + "\"tpm\":100000,\"max_concurrency\":4,\"budget_usd\":5.0,\"expires_at\":\"2099-01-01T00:00:00Z\","
                + "\"attribution\":{\"referer\":\"https://a.example\",\"title\":\"Team A\"},"
                + "\"metadata\":{\"team\":\"a\",\"owner\":\"ana\"}}");
        String id = created.get("id").asString();
        String secret = created.get("key").asString();
        assertThat(secret).matches("sk-gw-[0-9A-Za-z]{49}");
        assertThat(created.get("prefix").asString()).isEqualTo(secret.substring(0, 10) + "...");
        assertThat(created.get("rpm").asLong()).isEqualTo(60);
        assertThat(created.get("max_concurrency").asInt()).isEqualTo(4);
        assertThat(created.get("budget_usd").decimalValue()).isEqualByComparingTo("5.0");
        assertThat(created.get("attribution").get("title").asString()).isEqualTo("Team A");
        assertThat(created.get("metadata").get("owner").asString()).isEqualTo("ana");
        assertThat(created.get("status").asString()).isEqualTo("active");

        HttpResponse<String> one = admin.call("GET", "/admin/keys/" + id, null);
        HttpResponse<String> list = admin.call("GET", "/admin/keys?name=" + name, null);
        HttpResponse<String> audit = admin.call("GET", "/admin/audit?key_id=" + id, null);
        for (HttpResponse<String> response : List.of(one, list, audit)) {
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).doesNotContain(secret).doesNotContain(secret.substring(10, 30));
        }
        assertThat(admin.json(one).has("key")).isFalse();
        assertThat(admin.json(one).get("metadata").get("team").asString()).isEqualTo("a");
        assertThat(admin.json(list).get("data")).hasSize(1);
        assertThat(admin.probe(secret)).isEqualTo(404);
    }

    @Test
    void anEditThatReadTheKeyBeforeARevocationDoesNotBringTheKeyBack() {
        JsonNode created = admin.createKey("{\"name\":\"" + unique("edit-race") + "\",\"rpm\":10}");
        String id = created.get("id").asString();
        String secret = created.get("key").asString();
        // An edit reads the key, then an admin revokes it, then the edit writes what it changed.
        ApiKey readBeforeTheRevocation = repository.findById(id).block(Duration.ofSeconds(5));
        assertThat(admin.call("DELETE", "/admin/keys/" + id, null).statusCode()).isEqualTo(200);
        repository
                .update(readBeforeTheRevocation.toBuilder().rpm(99L).build(), null)
                .block(Duration.ofSeconds(5));

        JsonNode after = admin.json(admin.call("GET", "/admin/keys/" + id, null));
        assertThat(after.get("status").asString()).isEqualTo("revoked");
        assertThat(after.get("revoked_at").isNull()).isFalse();
        assertThat(after.get("rpm").asLong()).isEqualTo(99);
        assertThat(admin.probe(secret)).isEqualTo(401);
    }

    @Test
    void aChangeWhoseAuditRowCannotBeWrittenIsNotMade() {
        JsonNode kept = admin.createKey("{\"name\":\"" + unique("audit-kept") + "\",\"rpm\":10}");
        String id = kept.get("id").asString();
        String secret = kept.get("key").asString();
        String lost = unique("audit-lost");
        List<HttpResponse<String>> refused = new ArrayList<>();
        // The audit table goes away for a moment: every audit insert fails, the key tables still work.
        sql("ALTER TABLE admin_audit RENAME TO admin_audit_away");
        try {
            refused.add(admin.call("POST", "/admin/keys", "{\"name\":\"" + lost + "\"}"));
            refused.add(admin.call("PATCH", "/admin/keys/" + id, "{\"rpm\":99}"));
            refused.add(admin.call("POST", "/admin/keys/" + id + "/rotate", "{}"));
            refused.add(admin.call("DELETE", "/admin/keys/" + id, null));
        } finally {
            sql("ALTER TABLE admin_audit_away RENAME TO admin_audit");
        }

        for (HttpResponse<String> response : refused) {
            assertThat(response.statusCode()).as(response.body()).isGreaterThanOrEqualTo(500);
            assertThat(response.body()).doesNotContain("sk-gw-");
        }
        // No key was issued whose secret nobody received, and the audited key is as it was.
        assertThat(admin.json(admin.call("GET", "/admin/keys?name=" + lost, null))
                        .get("data"))
                .isEmpty();
        JsonNode after = admin.json(admin.call("GET", "/admin/keys/" + id, null));
        assertThat(after.get("rpm").asLong()).isEqualTo(10);
        assertThat(after.get("status").asString()).isEqualTo("active");
        assertThat(admin.probe(secret)).isEqualTo(404);
        JsonNode trail =
                admin.json(admin.call("GET", "/admin/audit?key_id=" + id, null)).get("data");
        assertThat(trail).hasSize(1);
        assertThat(trail.get(0).get("action").asString()).isEqualTo("key.create");
    }

    private void sql(String statement) {
        db.sql(statement).then().block(Duration.ofSeconds(10));
    }

    /** {@code curl -d '{...}'} sends a form content type; a script may send none: the body is JSON all the same. */
    @Test
    void aJsonBodyIsReadWhateverItsContentType() {
        TestGateway gateway = new TestGateway(port);
        for (String type : List.of("application/x-www-form-urlencoded", "text/plain")) {
            String name = unique("any-type");
            HttpResponse<String> created = gateway.send(java.net.http.HttpRequest.newBuilder(gateway.uri("/admin/keys"))
                    .header("Authorization", "Bearer " + TestGateway.ADMIN_KEY)
                    .header("Content-Type", type)
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"name\":\"" + name + "\",\"rpm\":7}"))
                    .build());
            assertThat(created.statusCode()).as(type + ": " + created.body()).isEqualTo(201);
            assertThat(admin.json(created).get("rpm").asLong()).isEqualTo(7);
        }
    }

    /** As JSON Merge Patch treats a nested object: named fields change, the others stay; null clears. */
    @Test
    void anAttributionEditChangesOnlyTheFieldsItNames() {
        JsonNode created = admin.createKey("{\"name\":\"" + unique("attributed")
                + "\",\"attribution\":{\"referer\":\"https://a.example\",\"title\":\"A\"}}");
        String id = created.get("id").asString();

        JsonNode retitled = admin.json(admin.call("PATCH", "/admin/keys/" + id, "{\"attribution\":{\"title\":\"B\"}}"));
        assertThat(retitled.get("attribution").get("referer").asString()).isEqualTo("https://a.example");
        assertThat(retitled.get("attribution").get("title").asString()).isEqualTo("B");

        JsonNode unreferred =
                admin.json(admin.call("PATCH", "/admin/keys/" + id, "{\"attribution\":{\"referer\":null}}"));
        assertThat(unreferred.get("attribution").get("referer").isNull()).isTrue();
        assertThat(unreferred.get("attribution").get("title").asString()).isEqualTo("B");

        JsonNode cleared = admin.json(admin.call("PATCH", "/admin/keys/" + id, "{\"attribution\":null}"));
        assertThat(cleared.get("attribution").get("title").isNull()).isTrue();
    }

    @Test
    void listIsPagedAndFiltersByNameAndMetadata() {
        String team = unique("team");
        for (int i = 0; i < 3; i++) {
            admin.createKey("{\"name\":\"" + team + "-" + i + "\",\"metadata\":{\"team\":\"" + team + "\"}}");
        }
        admin.createKey("{\"name\":\"" + team + "-other\",\"metadata\":{\"team\":\"elsewhere\"}}");

        JsonNode byTeam = admin.json(admin.call("GET", "/admin/keys?metadata.team=" + team + "&limit=2", null));
        assertThat(byTeam.get("total").asLong()).isEqualTo(3);
        assertThat(byTeam.get("data")).hasSize(2);
        JsonNode next = admin.json(admin.call("GET", "/admin/keys?metadata.team=" + team + "&limit=2&offset=2", null));
        assertThat(next.get("data")).hasSize(1);
        JsonNode byName =
                admin.json(admin.call("GET", "/admin/keys?name=" + team.toUpperCase(java.util.Locale.ROOT), null));
        assertThat(byName.get("total").asLong()).isEqualTo(4);
        assertThat(admin.call("GET", "/admin/keys?limit=0", null).statusCode()).isEqualTo(400);
        // A label filter without "=" once answered 500.
        HttpResponse<String> noValue = admin.call("GET", "/admin/keys?metadata.team", null);
        assertThat(noValue.statusCode()).as(noValue.body()).isEqualTo(400);
        assertThat(admin.json(noValue).get("error").get("param").asString()).isEqualTo("metadata.team");
    }

    @Test
    void patchChangesOnlyTheNamedFieldsAndTakesEffectAtOnce() {
        JsonNode created = admin.createKey("{\"name\":\"" + unique("patched") + "\",\"rpm\":10,\"models\":[\"x/*\"]}");
        String id = created.get("id").asString();
        HttpResponse<String> patched =
                admin.call("PATCH", "/admin/keys/" + id, "{\"tpm\":500,\"models\":null,\"metadata\":{\"team\":\"b\"}}");
        assertThat(patched.statusCode()).isEqualTo(200);
        JsonNode key = admin.json(patched);
        assertThat(key.get("rpm").asLong()).isEqualTo(10);
        assertThat(key.get("tpm").asLong()).isEqualTo(500);
        assertThat(key.get("models")).isEmpty();
        assertThat(key.get("metadata").get("team").asString()).isEqualTo("b");
        // Idempotent: the same PATCH again leaves the same key.
        JsonNode again = admin.json(admin.call(
                "PATCH", "/admin/keys/" + id, "{\"tpm\":500,\"models\":null,\"metadata\":{\"team\":\"b\"}}"));
        assertThat(again.get("tpm").asLong()).isEqualTo(500);
        assertThat(admin.call("PATCH", "/admin/keys/key_doesNotExist", "{\"rpm\":1}")
                        .statusCode())
                .isEqualTo(404);
    }

    /** Two admins editing different fields of one key at once: each edit keeps the other's. */
    @Test
    void concurrentEditsOfDifferentFieldsBothLast() {
        String id = admin.createKey("{\"name\":\"" + unique("edited-at-once") + "\"}")
                .get("id")
                .asString();
        for (int round = 1; round <= 20; round++) {
            String rpm = "{\"rpm\":" + round + "}";
            List<HttpResponse<String>> answers = atOnce(
                    () -> admin.call("PATCH", "/admin/keys/" + id, "{\"models\":[\"demo/none-*\"]}"),
                    () -> admin.call("PATCH", "/admin/keys/" + id, rpm));
            answers.forEach(
                    answer -> assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200));

            JsonNode key = admin.json(admin.call("GET", "/admin/keys/" + id, null));
            assertThat(key.get("rpm").asLong()).as("round " + round).isEqualTo(round);
            assertThat(key.get("models")).as("round " + round).hasSize(1);
            // Undone for the next round, so that a lost edit shows again.
            admin.call("PATCH", "/admin/keys/" + id, "{\"models\":null}");
        }
    }

    /** Two rotations without a grace period at once: one of the two new secrets is the key's, not both. */
    @Test
    void concurrentRotationsLeaveOneSecret() {
        JsonNode created = admin.createKey("{\"name\":\"" + unique("rotated-at-once") + "\"}");
        String id = created.get("id").asString();
        String current = created.get("key").asString();
        for (int round = 1; round <= 20; round++) {
            List<HttpResponse<String>> answers = atOnce(
                    () -> admin.call("POST", "/admin/keys/" + id + "/rotate", null),
                    () -> admin.call("POST", "/admin/keys/" + id + "/rotate", null));
            answers.forEach(
                    answer -> assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200));

            assertThat(admin.probe(current))
                    .as("round " + round + ", the old secret")
                    .isEqualTo(401);
            List<String> accepted = answers.stream()
                    .map(answer -> admin.json(answer).get("key").asString())
                    .filter(secret -> admin.probe(secret) == 404)
                    .toList();
            assertThat(accepted).as("round " + round + ", new secrets accepted").hasSize(1);
            current = accepted.get(0);
        }
    }

    /** Sends the calls together (released by one barrier) and waits for all their answers. */
    @SafeVarargs
    private List<HttpResponse<String>> atOnce(Supplier<HttpResponse<String>>... calls) {
        CyclicBarrier start = new CyclicBarrier(calls.length);
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (Supplier<HttpResponse<String>> call : calls) {
            answers.add(CompletableFuture.supplyAsync(
                    () -> {
                        try {
                            start.await(10, TimeUnit.SECONDS);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                        return call.get();
                    },
                    callers));
        }
        return answers.stream()
                .map(answer -> answer.orTimeout(30, TimeUnit.SECONDS).join())
                .toList();
    }

    @Test
    void invalidRequestsAre400NamingTheField() {
        record Case(String body, String param) {}
        // 20 patterns of 200 characters: 4,061 characters as stored, in a column of 4,000.
        String longPatterns = String.join(",", java.util.Collections.nCopies(20, "\"" + "m".repeat(200) + "\""));
        List<Case> cases = List.of(
                new Case("{\"name\":\"x\",\"rmp\":60}", "rmp"),
                new Case("{\"name\":\"x\",\"rpm\":-1}", "rpm"),
                new Case("{\"name\":\"x\",\"tpm\":1.5}", "tpm"),
                new Case("{\"name\":\"x\",\"max_concurrency\":-3}", "max_concurrency"),
                new Case("{\"name\":\"x\",\"budget_usd\":-0.01}", "budget_usd"),
                new Case("{\"name\":\"x\",\"models\":[\"openai/ gpt\"]}", "models"),
                new Case("{\"name\":\"x\",\"models\":\"openai/*\"}", "models"),
                new Case("{\"name\":\"x\",\"expires_at\":\"2001-01-01T00:00:00Z\"}", "expires_at"),
                new Case("{\"name\":\"x\",\"expires_at\":\"tomorrow\"}", "expires_at"),
                new Case("{\"name\":\"x\",\"attribution\":{\"title\":\"a\\r\\nX-Evil: 1\"}}", "attribution.title"),
                new Case("{\"name\":\"x\",\"attribution\":{\"color\":\"red\"}}", "attribution.color"),
                new Case("{\"name\":\"x\",\"metadata\":{\"team\":7}}", "metadata.team"),
                // Within the rules of each field, but not what the database can store.
                new Case("{\"name\":\"x\",\"models\":[" + longPatterns + "]}", "models"),
                new Case("{\"name\":\"x\",\"budget_usd\":1e400}", "budget_usd"),
                new Case("{\"name\":\"x\",\"budget_usd\":0.0000001}", "budget_usd"),
                new Case("{\"name\":\"x\",\"expires_at\":\"+999999999-12-31T23:59:59Z\"}", "expires_at"),
                new Case("{\"name\":\"x\",\"metadata\":{\"a\\u0000b\":\"x\"}}", "metadata"),
                new Case("{\"models\":[\"openai/*\"]}", "name"),
                new Case("{\"name\":\"\"}", "name"));
        for (Case c : cases) {
            HttpResponse<String> response = admin.call("POST", "/admin/keys", c.body());
            assertThat(response.statusCode()).as(c.body()).isEqualTo(400);
            assertThat(admin.json(response).get("error").get("param").asString())
                    .as(c.body())
                    .isEqualTo(c.param());
        }
        assertThat(admin.call("POST", "/admin/keys", "not json").statusCode()).isEqualTo(400);
        assertThat(admin.call("POST", "/admin/keys", "[1]").statusCode()).isEqualTo(400);
    }

    @Test
    void aRotationThatFindsTheKeyRevokedSinceItLookedIssuesNoSecret() {
        // The API checks first, then rotates; a revocation committed in between once got a 200 and a
        // new secret for the revoked key. The service call below is the rotation after that check.
        JsonNode created = admin.createKey("{\"name\":\"" + unique("raced") + "\"}");
        String id = created.get("id").asString();
        assertThat(admin.call("DELETE", "/admin/keys/" + id, null).statusCode()).isEqualTo(200);
        long secrets = secretsOf(id);

        assertThat(keys.rotate(id, Duration.ZERO, KeyService.Audit.NONE)
                        .map(issued -> (Object) issued)
                        .onErrorResume(KeyRevokedException.class, e -> reactor.core.publisher.Mono.just(e))
                        .block(Duration.ofSeconds(10)))
                .isInstanceOf(KeyRevokedException.class);
        assertThat(secretsOf(id)).isEqualTo(secrets);
    }

    private long secretsOf(String id) {
        return db.sql("SELECT COUNT(*) AS n FROM api_key_secrets WHERE key_id = :id")
                .bind("id", id)
                .map(row -> row.get("n", Long.class))
                .one()
                .block(Duration.ofSeconds(10));
    }

    @Test
    void aBudgetOfOneMillionthOfADollarIsAccepted() {
        // Six decimals are allowed; Jackson reads 0.000001 as 1.0E-6 (seven digits of scale), once refused.
        JsonNode created = admin.createKey("{\"name\":\"" + unique("micro") + "\",\"budget_usd\":0.000001}");

        assertThat(created.get("budget_usd").decimalValue()).isEqualByComparingTo("0.000001");
    }

    @Test
    void rotationKeepsTheIdAndLetsTheOldSecretWorkOnlyDuringTheGracePeriod() {
        JsonNode created = admin.createKey("{\"name\":\"" + unique("rotated") + "\",\"rpm\":7}");
        String id = created.get("id").asString();
        String first = created.get("key").asString();
        assertThat(admin.probe(first)).isEqualTo(404);

        HttpResponse<String> rotated = admin.call("POST", "/admin/keys/" + id + "/rotate", "{\"grace_seconds\":2}");
        assertThat(rotated.statusCode()).isEqualTo(200);
        JsonNode afterGrace = admin.json(rotated);
        String second = afterGrace.get("key").asString();
        assertThat(afterGrace.get("id").asString()).isEqualTo(id);
        assertThat(afterGrace.get("rpm").asLong()).isEqualTo(7);
        assertThat(second).isNotEqualTo(first);
        assertThat(admin.probe(second)).isEqualTo(404);
        assertThat(admin.probe(first)).isEqualTo(404);
        Instant graceEnds = Instant.now().plusSeconds(2);
        await().atMost(Duration.ofSeconds(10)).until(() -> admin.probe(first) == 401);
        assertThat(Instant.now()).isAfterOrEqualTo(graceEnds.minusMillis(500));
        assertThat(admin.probe(second)).isEqualTo(404);

        // Without a grace period the previous secret stops at once.
        String third = admin.json(admin.call("POST", "/admin/keys/" + id + "/rotate", null))
                .get("key")
                .asString();
        assertThat(admin.probe(second)).isEqualTo(401);
        assertThat(admin.probe(third)).isEqualTo(404);
        assertThat(admin.call("POST", "/admin/keys/" + id + "/rotate", "{\"grace_seconds\":-1}")
                        .statusCode())
                .isEqualTo(400);
    }

    @Test
    void revocationIsImmediateIdempotentAndKeepsTheRecord() {
        JsonNode created = admin.createKey("{\"name\":\"" + unique("revoked") + "\"}");
        String id = created.get("id").asString();
        String secret = created.get("key").asString();
        assertThat(admin.probe(secret)).isEqualTo(404);

        HttpResponse<String> revoked = admin.call("DELETE", "/admin/keys/" + id, null);
        assertThat(revoked.statusCode()).isEqualTo(200);
        assertThat(admin.probe(secret)).isEqualTo(401);
        String revokedAt = admin.json(revoked).get("revoked_at").asString();

        HttpResponse<String> again = admin.call("DELETE", "/admin/keys/" + id, null);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(admin.json(again).get("revoked_at").asString()).isEqualTo(revokedAt);
        JsonNode kept = admin.json(admin.call("GET", "/admin/keys/" + id, null));
        assertThat(kept.get("status").asString()).isEqualTo("revoked");
        assertThat(admin.call("POST", "/admin/keys/" + id + "/rotate", null).statusCode())
                .isEqualTo(409);
        assertThat(admin.call("DELETE", "/admin/keys/key_doesNotExist", null).statusCode())
                .isEqualTo(404);
    }

    @Test
    void everyAdminActionIsAuditedWithTheAdminIdAndNoSecret() {
        // Truncated: the stored time may be rounded to the database's precision.
        Instant start = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        JsonNode created = admin.createKey("{\"name\":\"" + unique("audited") + "\"}");
        String id = created.get("id").asString();
        List<String> secrets = new ArrayList<>(List.of(created.get("key").asString(), TestGateway.ADMIN_KEY));
        admin.call("PATCH", "/admin/keys/" + id, "{\"rpm\":5}");
        secrets.add(admin.json(admin.call("POST", "/admin/keys/" + id + "/rotate", "{\"grace_seconds\":60}"))
                .get("key")
                .asString());
        admin.call("DELETE", "/admin/keys/" + id, null);

        HttpResponse<String> response = admin.call("GET", "/admin/audit?key_id=" + id, null);
        Instant end = Instant.now().plusMillis(1);
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode entries = admin.json(response).get("data");
        List<String> actions = new ArrayList<>();
        entries.forEach(entry -> {
            actions.add(entry.get("action").asString());
            assertThat(entry.get("actor").asString()).matches("admin-[0-9a-f]{8}");
            assertThat(entry.get("key_id").asString()).isEqualTo(id);
            assertThat(Instant.parse(entry.get("at").asString()))
                    .as("when %s was done", entry.get("action").asString())
                    .isBetween(start, end);
        });
        assertThat(actions).containsExactly("key.revoke", "key.rotate", "key.update", "key.create");
        assertThat(entries.get(2).get("detail").asString()).contains("rpm");
        for (String secret : secrets) {
            assertThat(response.body()).doesNotContain(secret);
        }
    }
}
