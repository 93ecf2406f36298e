package io.switchboard.ratelimit;

import static io.switchboard.testing.FakeUpstream.chunk;
import static io.switchboard.testing.FakeUpstream.pause;
import static io.switchboard.testing.FakeUpstream.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.GatewayInstance;
import io.switchboard.testing.RedisTestServer;
import io.switchboard.testing.TestGateway;
import java.math.BigDecimal;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Limits through real HTTP, on one replica and on two replicas sharing Redis. */
class RateLimitIT {

    private static FakeUpstream upstream;
    private final List<GatewayInstance> instances = new ArrayList<>();

    @BeforeAll
    static void startUpstream() {
        upstream = FakeUpstream.start();
    }

    @AfterAll
    static void stopUpstream() {
        upstream.close();
    }

    @AfterEach
    void stopInstances() {
        instances.forEach(GatewayInstance::close);
        upstream.reset();
    }

    private GatewayInstance startAlone(String... properties) {
        return startSharing("rl_" + UUID.randomUUID().toString().replace("-", ""), properties);
    }

    private GatewayInstance startSharing(String database, String... properties) {
        GatewayInstance instance = GatewayInstance.replica(upstream.baseUrl(), database, properties);
        instances.add(instance);
        return instance;
    }

    private static String[] sharedReplica(String prefix, String... more) {
        List<String> all = new ArrayList<>(List.of(
                "gateway.ratelimit.redis-url=" + RedisTestServer.url(),
                "gateway.ratelimit.key-prefix=" + prefix,
                "gateway.ratelimit.replicas=2",
                // Generous: this test is about exact counts, not about a slow Redis.
                "gateway.ratelimit.command-timeout=3s"));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    private static CompletableFuture<HttpResponse<String>> post(TestGateway gateway, String body) {
        return post(gateway, "/v1/chat/completions", body);
    }

    private static CompletableFuture<HttpResponse<String>> post(TestGateway gateway, String path, String body) {
        return gateway.http()
                .sendAsync(
                        gateway.request(path)
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(TestGateway gateway, String path) {
        return gateway.http()
                .sendAsync(gateway.request(path).GET().build(), HttpResponse.BodyHandlers.ofString())
                .join();
    }

    private static List<HttpResponse<String>> all(List<CompletableFuture<HttpResponse<String>>> futures) {
        List<HttpResponse<String>> responses =
                futures.stream().map(CompletableFuture::join).toList();
        System.out.println("statuses: "
                + responses.stream()
                        .collect(java.util.stream.Collectors.groupingBy(
                                HttpResponse::statusCode, java.util.stream.Collectors.counting()))
                + " first: " + responses.get(0).body());
        return responses;
    }

    private static final String CHAT = "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}";

    @Test
    void twoHundredConcurrentRequestsAgainstRpm50AdmitExactlyFiftyOnOneReplica() {
        GatewayInstance gateway = startAlone("gateway.ratelimit.defaults.rpm=50");
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            futures.add(post(gateway.gateway(), CHAT));
        }
        List<HttpResponse<String>> responses = all(futures);

        assertThat(responses.stream().filter(r -> r.statusCode() == 200)).hasSize(50);
        assertThat(responses.stream().filter(r -> r.statusCode() == 429)).hasSize(150);
        HttpResponse<String> refused = responses.stream()
                .filter(r -> r.statusCode() == 429)
                .findFirst()
                .orElseThrow();
        assertThat(refused.headers().firstValue("Retry-After"))
                .hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isBetween(1L, 60L));
        assertThat(refused.headers().firstValue("x-ratelimit-limit-requests")).hasValue("50");
        assertThat(refused.headers().firstValue("x-ratelimit-remaining-requests"))
                .hasValue("0");
        assertThat(refused.headers().firstValue("x-ratelimit-reset-requests")).isPresent();
        assertThat(refused.body())
                .contains("\"type\":\"rate_limit_error\"")
                .contains("\"code\":\"rate_limit_exceeded\"");
        HttpResponse<String> admitted = responses.stream()
                .filter(r -> r.statusCode() == 200)
                .findFirst()
                .orElseThrow();
        assertThat(admitted.headers().firstValue("x-ratelimit-limit-requests")).hasValue("50");
        assertThat(admitted.headers().firstValue("x-ratelimit-remaining-requests"))
                .isPresent();
        assertThat(admitted.headers().allValues("x-ratelimit-limit-requests")).hasSize(1);
        assertThat(upstream.requests().stream().filter(r -> r.path().endsWith("/chat/completions")))
                .hasSize(50);
    }

    @Test
    void tokensPerMinuteReserveTheEstimateAndGetBackWhatTheAnswerDidNotUse() {
        GatewayInstance gateway = startAlone("gateway.ratelimit.defaults.tpm=1000");
        String asksFor600 = "{\"model\":\"openai/gpt-5-nano\",\"messages\":[],\"max_tokens\":600}";
        String asksFor900 = "{\"model\":\"openai/gpt-5-nano\",\"messages\":[],\"max_tokens\":900}";

        HttpResponse<String> first = post(gateway.gateway(), asksFor600).join();
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(first.headers().firstValue("x-ratelimit-limit-tokens")).hasValue("1000");
        assertThat(Long.parseLong(first.headers()
                        .firstValue("x-ratelimit-remaining-tokens")
                        .orElseThrow()))
                .as("600 asked for, plus the prompt's estimate, reserved")
                .isLessThanOrEqualTo(400);
        assertThat(first.headers().firstValue("x-ratelimit-reset-tokens")).isPresent();

        // The answer used 18 tokens: the rest of the reservation comes back once it ended, so 900
        // more fit in the same minute (a refused attempt takes nothing).
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> post(gateway.gateway(), asksFor900).join().statusCode() == 200);

        // 36 used in this minute: 990 more do not fit.
        HttpResponse<String> refused = post(
                        gateway.gateway(), "{\"model\":\"openai/gpt-5-nano\",\"messages\":[],\"max_tokens\":990}")
                .join();
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(429);
        assertThat(refused.body()).contains("tokens per minute").contains("\"code\":\"rate_limit_exceeded\"");
        assertThat(refused.headers().firstValue("x-ratelimit-limit-tokens")).hasValue("1000");
        assertThat(Long.parseLong(refused.headers()
                        .firstValue("x-ratelimit-remaining-tokens")
                        .orElseThrow()))
                .isBetween(900L, 990L);
        assertThat(refused.headers().firstValue("Retry-After"))
                .hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isBetween(1L, 60L));
        assertThat(upstream.requests().stream().filter(r -> r.path().endsWith("/chat/completions")))
                .hasSize(2);
    }

    @Test
    void answersRefusedBeforeTheRateLimitCheckCarryTheKeysNumbersAndTakeNothing() {
        refusalsReportWithoutTaking(startAlone(
                "gateway.ratelimit.defaults.rpm=10",
                "gateway.ratelimit.defaults.tpm=100000",
                "gateway.limits.max-body-size=2KB"));
    }

    @Test
    void answersRefusedBeforeTheRateLimitCheckReadTheSharedBucketsInRedis() {
        String prefix = "switchboard-it:" + UUID.randomUUID() + ":";
        refusalsReportWithoutTaking(startAlone(sharedReplica(
                prefix,
                "gateway.ratelimit.defaults.rpm=10",
                "gateway.ratelimit.defaults.tpm=100000",
                "gateway.limits.max-body-size=2KB")));
    }

    private void refusalsReportWithoutTaking(GatewayInstance gateway) {
        HttpResponse<String> first = post(gateway.gateway(), CHAT).join();
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(first.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("9");

        HttpResponse<String> malformed = post(gateway.gateway(), "{\"model\":").join();
        String tooLarge = "{\"model\":\"openai/gpt-5-nano\",\"messages\":[{\"role\":\"user\",\"content\":\""
                + "x".repeat(4096) + "\"}]}";
        HttpResponse<String> oversized = post(gateway.gateway(), tooLarge).join();

        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(oversized.statusCode()).isEqualTo(413);
        for (HttpResponse<String> refused : List.of(malformed, oversized)) {
            assertThat(refused.headers().firstValue("x-ratelimit-limit-requests"))
                    .hasValue("10");
            assertThat(refused.headers().firstValue("x-ratelimit-remaining-requests"))
                    .hasValue("9");
            assertThat(refused.headers().firstValue("x-ratelimit-reset-requests"))
                    .hasValueSatisfying(reset -> assertThat(reset).matches("\\d+(ms|s|m\\d+s)"));
            assertThat(refused.headers().firstValue("x-ratelimit-limit-tokens")).hasValue("100000");
            // The first request's tokens are taken (its estimate, later its real usage): fewer than 100000.
            assertThat(refused.headers().firstValue("x-ratelimit-remaining-tokens"))
                    .hasValueSatisfying(left -> assertThat(Long.parseLong(left)).isBetween(0L, 99_999L));
            assertThat(refused.headers().allValues("x-ratelimit-limit-requests"))
                    .hasSize(1);
        }
        // The refusals took nothing: the next admitted request is the second of the minute.
        HttpResponse<String> second = post(gateway.gateway(), CHAT).join();
        assertThat(second.statusCode()).isEqualTo(200);
        assertThat(second.headers().firstValue("x-ratelimit-remaining-requests"))
                .hasValue("8");
    }

    @Test
    void theTokenReservationCoversEveryChoiceAndTheLargerLimitField() {
        GatewayInstance gateway = startAlone("gateway.ratelimit.defaults.tpm=1000");
        // One choice of at most 300 tokens: about 700 left while it runs.
        HttpResponse<String> one = post(
                        gateway.gateway(),
                        "{\"model\":\"openai/gpt-5-nano\",\"messages\":[],\"max_tokens\":100,"
                                + "\"max_completion_tokens\":300}")
                .join();
        assertThat(Long.parseLong(
                        one.headers().firstValue("x-ratelimit-remaining-tokens").orElseThrow()))
                .isBetween(600L, 700L);

        GatewayInstance other = startAlone("gateway.ratelimit.defaults.tpm=1000");
        // Four choices of up to 300: the whole minute's tokens are reserved.
        HttpResponse<String> four = post(
                        other.gateway(), "{\"model\":\"openai/gpt-5-nano\",\"messages\":[],\"max_tokens\":300,\"n\":4}")
                .join();
        assertThat(four.statusCode()).isEqualTo(200);
        assertThat(four.headers().firstValue("x-ratelimit-remaining-tokens")).hasValue("0");
    }

    /** A 429 for tokens gives its request back, and its headers count it as back (they said 8). */
    @Test
    void aTokensLimit429ReportsTheRequestItGaveBack() {
        GatewayInstance gateway =
                startAlone("gateway.ratelimit.defaults.rpm=10", "gateway.ratelimit.defaults.tpm=1000");
        HttpResponse<String> first = post(
                        gateway.gateway(), "{\"model\":\"openai/gpt-5-nano\",\"messages\":[],\"max_tokens\":600}")
                .join();
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(first.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("9");

        HttpResponse<String> refused = post(
                        gateway.gateway(), "{\"model\":\"openai/gpt-5-nano\",\"messages\":[],\"max_tokens\":990}")
                .join();

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(429);
        assertThat(refused.body()).contains("tokens per minute");
        assertThat(refused.headers().firstValue("x-ratelimit-remaining-requests"))
                .hasValue("9");
    }

    @Test
    void aRequestsLimit429StillReportsTheTokenBucket() {
        GatewayInstance gateway =
                startAlone("gateway.ratelimit.defaults.rpm=1", "gateway.ratelimit.defaults.tpm=100000");
        assertThat(post(gateway.gateway(), CHAT).join().statusCode()).isEqualTo(200);

        HttpResponse<String> refused = post(gateway.gateway(), CHAT).join();

        assertThat(refused.statusCode()).isEqualTo(429);
        assertThat(refused.headers().firstValue("x-ratelimit-remaining-requests"))
                .hasValue("0");
        assertThat(refused.headers().firstValue("x-ratelimit-limit-tokens")).hasValue("100000");
        assertThat(refused.headers().firstValue("x-ratelimit-remaining-tokens"))
                .hasValueSatisfying(left -> assertThat(Long.parseLong(left)).isBetween(0L, 99_999L));
    }

    @Test
    void requestsWithoutABodyTakeNoTokensAndGetTheirOwnStatus() {
        // A key with a token limit once got 500 here: a take of zero tokens, which Bucket4j refuses.
        GatewayInstance gateway = startAlone("gateway.ratelimit.defaults.tpm=1000");

        HttpResponse<String> models = get(gateway.gateway(), "/v1/models");
        HttpResponse<String> wrongMethod = get(gateway.gateway(), "/v1/chat/completions");

        assertThat(models.statusCode()).as(models.body()).isEqualTo(200);
        assertThat(models.headers().firstValue("x-ratelimit-limit-tokens")).hasValue("1000");
        assertThat(models.headers().firstValue("x-ratelimit-remaining-tokens")).hasValue("1000");
        assertThat(wrongMethod.statusCode()).as(wrongMethod.body()).isEqualTo(405);
        assertThat(wrongMethod.body()).contains("\"error\"");
    }

    /** One model's page counts as a request of its key, as the model list does, and says what is left. */
    @Test
    void oneModelsPageIsARequestOfItsKey() {
        GatewayInstance gateway = startAlone("gateway.ratelimit.defaults.rpm=1");

        HttpResponse<String> first = get(gateway.gateway(), "/v1/models/openai/gpt-5-nano");
        HttpResponse<String> second = get(gateway.gateway(), "/api/v1/models/openai%2Fgpt-5-nano");

        assertThat(first.statusCode()).as(first.body()).isLessThan(429);
        assertThat(first.headers().firstValue("x-ratelimit-limit-requests")).hasValue("1");
        assertThat(first.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("0");
        assertThat(second.statusCode()).as(second.body()).isEqualTo(429);
    }

    @Test
    void aPercentEncodedPathIsTheSameEndpointWithTheSameLimits() {
        // "/v1/chat/complet%69ons" is routed to the proxy; it was once served there without the
        // endpoint's checks, limits and usage (and answered 502: no provider picked).
        GatewayInstance gateway = startAlone("gateway.ratelimit.defaults.rpm=1");
        upstream.enqueue(FakeUpstream.json(200, "{\"id\":\"gen-1\",\"choices\":[]}", java.util.Map.of()));

        HttpResponse<String> first =
                post(gateway.gateway(), "/v1/chat/complet%69ons", CHAT).join();
        HttpResponse<String> second = get(gateway.gateway(), "/v1/mod%65ls");

        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(first.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("0");
        assertThat(upstream.takeRequest().path()).endsWith("/chat/completions");
        assertThat(second.statusCode()).as(second.body()).isEqualTo(429);
    }

    @Test
    void aLimitedKeyNeverShowsTheUpstreamAccountsOwnRateLimits() {
        GatewayInstance gateway = startAlone("gateway.ratelimit.defaults.rpm=10");
        upstream.enqueue(FakeUpstream.json(
                200,
                "{\"id\":\"gen-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,"
                        + "\"total_tokens\":2}}",
                java.util.Map.of(
                        "x-ratelimit-limit-tokens", "999999",
                        "x-ratelimit-remaining-tokens", "5",
                        "X-RateLimit-Remaining-Requests", "7")));

        HttpResponse<String> response = post(gateway.gateway(), CHAT).join();

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().allValues("x-ratelimit-remaining-requests"))
                .containsExactly("9");
        assertThat(response.headers().firstValue("x-ratelimit-limit-tokens")).isEmpty();
        assertThat(response.headers().firstValue("x-ratelimit-remaining-tokens"))
                .isEmpty();
    }

    @Test
    void limitsSetFarAboveAnyLoadAdmitRequests() {
        // 10^11 a minute, as an operator might write "unlimited": once answered 500 on every request.
        GatewayInstance gateway = startAlone(
                "gateway.ratelimit.defaults.rpm=100000000000", "gateway.ratelimit.defaults.tpm=100000000000");

        HttpResponse<String> response = post(gateway.gateway(), CHAT).join();

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.headers().firstValue("x-ratelimit-limit-tokens")).hasValue("100000000000");
        assertThat(response.headers().firstValue("x-ratelimit-limit-requests")).hasValue("100000000000");
    }

    @Test
    void twoHundredConcurrentRequestsSplitOverTwoReplicasSharingRedisAdmitExactlyFifty() {
        String prefix = "switchboard-it:" + UUID.randomUUID() + ":";
        String database = "rl_" + UUID.randomUUID().toString().replace("-", "");
        GatewayInstance a = startSharing(database, sharedReplica(prefix, "gateway.ratelimit.defaults.rpm=50"));
        GatewayInstance b = startSharing(database, sharedReplica(prefix, "gateway.ratelimit.defaults.rpm=50"));
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            futures.add(post((i % 2 == 0 ? a : b).gateway(), CHAT));
        }
        List<HttpResponse<String>> responses = all(futures);
        assertThat(responses.stream().filter(r -> r.statusCode() == 200)).hasSize(50);
        assertThat(responses.stream().filter(r -> r.statusCode() == 429)).hasSize(150);
    }

    @Test
    void fiftyConcurrentStreamsOverTwoReplicasNeverSpendMoreThanTheBudgetPlusOneWorstCase() throws Exception {
        String prefix = "switchboard-it:" + UUID.randomUUID() + ":";
        String database = "budget_" + UUID.randomUUID().toString().replace("-", "");
        String[] budget = {
            "gateway.ratelimit.defaults.budget-usd=0.001",
            "gateway.pricing[budget/model].prompt=0.000001",
            "gateway.pricing[budget/model].completion=0.000001"
        };
        GatewayInstance a = startSharing(database, sharedReplica(prefix, budget));
        GatewayInstance b = startSharing(database, sharedReplica(prefix, budget));
        String usage =
                "data: {\"id\":\"gen-b\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":40,"
                        + "\"total_tokens\":50,\"cost\":0.00005}}\n\ndata: [DONE]\n\n";
        for (int i = 0; i < 50; i++) {
            upstream.enqueue(FakeUpstream.sse(List.of(send(chunk("x")), pause(Duration.ofMillis(300)), send(usage))));
        }
        String body = "{\"model\":\"budget/model\",\"stream\":true,\"max_tokens\":100,\"messages\":[]}";
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            futures.add(post((i % 2 == 0 ? a : b).gateway(), body));
        }
        List<HttpResponse<String>> responses = all(futures);
        long admitted = responses.stream().filter(r -> r.statusCode() == 200).count();
        assertThat(responses.stream().filter(r -> r.statusCode() == 402)).isNotEmpty();
        assertThat(responses.stream()
                        .filter(r -> r.statusCode() == 402)
                        .findFirst()
                        .orElseThrow()
                        .body())
                .contains("\"code\":\"budget_exceeded\"");
        assertThat(admitted
                        + responses.stream().filter(r -> r.statusCode() == 402).count())
                .isEqualTo(50);

        // Worst case of one request: (prompt estimate + max_tokens 100) tokens at 1e-6 USD.
        BigDecimal worstCase = new BigDecimal("0.000001").multiply(BigDecimal.valueOf(body.length() / 4 + 100 + 10));
        await().atMost(Duration.ofSeconds(30)).until(() -> ledgerRows(database) == admitted);
        BigDecimal spent = ledgerSpend(database);
        assertThat(spent).isLessThanOrEqualTo(new BigDecimal("0.001").add(worstCase));
        assertThat(spent).isEqualByComparingTo(new BigDecimal("0.00005").multiply(BigDecimal.valueOf(admitted)));
    }

    @Test
    void aBudgetReservesAtTheDearestModelOfTheFallbackList() {
        // OpenRouter bills the model that answered, which may be a fallback: the reservation was once
        // priced at the first model only, so requests falling back to a dear one overspent the budget.
        GatewayInstance gateway = startAlone(
                "gateway.ratelimit.defaults.budget-usd=0.001",
                "gateway.pricing[cheap/model].prompt=0.000000001",
                "gateway.pricing[cheap/model].completion=0.000000001",
                "gateway.pricing[dear/model].prompt=0.00001",
                "gateway.pricing[dear/model].completion=0.00001");
        CompletableFuture<Void> release = new CompletableFuture<>();
        upstream.enqueue(
                FakeUpstream.sse(List.of(send(chunk("x")), FakeUpstream.await(release), send("data: [DONE]\n\n"))));
        String body = "{\"model\":\"cheap/model\",\"models\":[\"cheap/model\",\"dear/model\"],"
                + "\"stream\":true,\"max_tokens\":100,\"messages\":[]}";
        CompletableFuture<HttpResponse<String>> first = post(gateway.gateway(), body);
        await().atMost(Duration.ofSeconds(30)).until(() -> upstream.requestCount() == 1);

        // The first request holds its worst case at the dear model: 0.0013 USD, the whole budget.
        HttpResponse<String> second = post(gateway.gateway(), body).join();

        assertThat(second.statusCode()).as(second.body()).isEqualTo(402);
        assertThat(second.body()).contains("\"code\":\"budget_exceeded\"");
        assertThat(upstream.requestCount()).isEqualTo(1);
        release.complete(null);
        assertThat(first.join().statusCode()).isEqualTo(200);
    }

    @Test
    void aBudgetSpentBeforeRedisLostItsDataStaysSpent() throws Exception {
        // Redis restarted without its data: every key's spend in it was gone, and a key already
        // refused for its budget could spend it all again, until the replicas restarted.
        String prefix = "switchboard-it:" + UUID.randomUUID() + ":";
        String database = "lost_" + UUID.randomUUID().toString().replace("-", "");
        GatewayInstance gateway = startSharing(
                database,
                sharedReplica(
                        prefix,
                        "gateway.ratelimit.defaults.budget-usd=0.0001",
                        "gateway.pricing[budget/model].prompt=0.000001",
                        "gateway.pricing[budget/model].completion=0.000001"));
        upstream.enqueue(FakeUpstream.json(
                200,
                "{\"id\":\"gen-dear\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":40,"
                        + "\"total_tokens\":50,\"cost\":0.0002}}",
                java.util.Map.of()));
        String body = "{\"model\":\"budget/model\",\"max_tokens\":10,\"messages\":[]}";
        assertThat(post(gateway.gateway(), body).join().statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> ledgerRows(database) == 1);
        assertThat(post(gateway.gateway(), body).join().statusCode()).isEqualTo(402);

        forgetEverythingUnder(prefix);

        HttpResponse<String> right = post(gateway.gateway(), body).join();
        assertThat(right.statusCode()).as(right.body()).isIn(402, 503);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> post(gateway.gateway(), body).join().statusCode() == 402);
        assertThat(upstream.requestCount())
                .as("only the first request reached the upstream")
                .isEqualTo(1);
    }

    /** What a Redis restarted without persistence holds of this test's keys: nothing. */
    private static void forgetEverythingUnder(String prefix) {
        io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(RedisTestServer.url());
        try (var direct = client.connect()) {
            List<String> keys = direct.sync().keys(prefix + "*");
            assertThat(keys).isNotEmpty();
            direct.sync().del(keys.toArray(String[]::new));
        } finally {
            client.shutdown();
        }
    }

    @Test
    void concurrentRequestsPastMaxConcurrencyAreRefusedAndSlotsComeBackWhenStreamsEnd() {
        GatewayInstance gateway =
                startAlone("gateway.ratelimit.defaults.max-concurrency=2", "gateway.ratelimit.defaults.rpm=10");
        CompletableFuture<Void> release = new CompletableFuture<>();
        for (int i = 0; i < 2; i++) {
            upstream.enqueue(
                    FakeUpstream.sse(List.of(send(chunk("x")), FakeUpstream.await(release), send("data: [DONE]\n\n"))));
        }
        String body = "{\"model\":\"openai/gpt-5-nano\",\"stream\":true,\"messages\":[]}";
        CompletableFuture<HttpResponse<String>> first = post(gateway.gateway(), body);
        CompletableFuture<HttpResponse<String>> second = post(gateway.gateway(), body);
        await().atMost(Duration.ofSeconds(30)).until(() -> upstream.requestCount() == 2);
        HttpResponse<String> third = post(gateway.gateway(), body).join();
        assertThat(third.statusCode()).isEqualTo(429);
        assertThat(third.body()).contains("concurrent");
        // Its request was given back: 8 of 10 left, as after the two streams (it said 7).
        assertThat(third.headers().firstValue("x-ratelimit-remaining-requests")).hasValue("8");
        release.complete(null);
        assertThat(first.join().statusCode()).isEqualTo(200);
        assertThat(second.join().statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30))
                .until(() -> gateway.bean(RateLimiting.class).inFlight() == 0);
        assertThat(post(gateway.gateway(), CHAT).join().statusCode()).isEqualTo(200);
    }

    private static long ledgerRows(String database) throws Exception {
        try (var c = DriverManager.getConnection("jdbc:h2:mem:" + database + ";DB_CLOSE_DELAY=-1", "sa", "");
                var rows = c.createStatement().executeQuery("SELECT COUNT(*) FROM usage")) {
            rows.next();
            return rows.getLong(1);
        }
    }

    private static BigDecimal ledgerSpend(String database) throws Exception {
        try (var c = DriverManager.getConnection("jdbc:h2:mem:" + database + ";DB_CLOSE_DELAY=-1", "sa", "");
                var rows = c.createStatement().executeQuery("SELECT COALESCE(SUM(cost_usd), 0) FROM usage")) {
            rows.next();
            return rows.getBigDecimal(1);
        }
    }
}
