package io.switchboard.usage;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.errors.GatewayErrorWebExceptionHandler;
import io.switchboard.testing.HttpText;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.server.HandlerStrategies;

class UsageAdminHandlerTest {

    private static final Instant DAY1 = Instant.parse("2026-11-01T10:15:00Z");
    private static final Instant DAY2 = Instant.parse("2026-11-02T08:00:00Z");

    private final TestDatabases.Database db = TestDatabases.h2();
    private final UsageRepository repository = new UsageRepository(db.connections());
    private WebTestClient client;

    @BeforeEach
    void seed() {
        List<UsageRecord> rows = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            UsageRecord r = UsageFixtures.record("key-a", "openai/gpt-5-nano", 10, 20, "0.001", DAY1);
            rows.add(withLatency(r, i * 100L, (long) i * 10));
        }
        UsageRecord failed = UsageFixtures.record("key-b", "=cmd|' /C calc'!A0", 5, 0, null, DAY2);
        rows.add(new UsageRecord(
                failed.entryId(),
                failed.requestId(),
                failed.keyId(),
                failed.keyName(),
                failed.endpoint(),
                failed.requestedModel(),
                failed.model(),
                null,
                failed.provider(),
                null,
                null,
                false,
                502,
                UsageOutcome.UPSTREAM_UNREACHABLE,
                0,
                0,
                0,
                0,
                0,
                false,
                null,
                "none",
                7,
                null,
                null,
                DAY2));
        repository.insert(rows).block(Duration.ofSeconds(5));
        client = WebTestClient.bindToRouterFunction(new UsageAdminHandler(repository).routes())
                .handlerStrategies(HandlerStrategies.builder()
                        .exceptionHandler(new GatewayErrorWebExceptionHandler())
                        .build())
                .build();
    }

    private static UsageRecord withLatency(UsageRecord r, long latency, long ttft) {
        return withLatency(r, r.stream(), latency, ttft);
    }

    private static UsageRecord withLatency(UsageRecord r, boolean stream, long latency, long ttft) {
        return new UsageRecord(
                r.entryId(),
                r.requestId(),
                r.keyId(),
                r.keyName(),
                r.endpoint(),
                r.requestedModel(),
                r.model(),
                r.servedModel(),
                r.provider(),
                r.upstreamProvider(),
                r.generationId(),
                stream,
                r.status(),
                r.outcome(),
                r.promptTokens(),
                r.completionTokens(),
                r.totalTokens(),
                r.cachedTokens(),
                r.reasoningTokens(),
                r.estimated(),
                r.costUsd(),
                r.costSource(),
                latency,
                r.ttfbMs(),
                ttft,
                r.createdAt());
    }

    @Test
    void aPeriodWithMoreRowsThanAReportSumsIsRefusedNotSummedShort() {
        WebTestClient capped = WebTestClient.bindToRouterFunction(new UsageAdminHandler(repository, 10).routes())
                .handlerStrategies(HandlerStrategies.builder()
                        .exceptionHandler(new GatewayErrorWebExceptionHandler())
                        .build())
                .build();
        // 11 rows in the period: one more than the bound.
        capped.get()
                .uri("/admin/usage?from=2026-11-01&to=2026-11-03&group_by=model")
                .exchange()
                .expectStatus()
                .isBadRequest()
                .expectBody()
                .jsonPath("$.error.code")
                .isEqualTo("invalid_request")
                .jsonPath("$.error.param")
                .isEqualTo("from");
        // The first day alone holds 10: summed in full.
        capped.get()
                .uri("/admin/usage?from=2026-11-01&to=2026-11-02&group_by=model")
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody()
                .jsonPath("$.data[0].requests")
                .isEqualTo(10);
    }

    @Test
    void reportSumsAndPercentilesPerModel() {
        client.get()
                .uri("/admin/usage?from=2026-11-01&to=2026-11-03&group_by=model")
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody()
                .jsonPath("$.object")
                .isEqualTo("list")
                .jsonPath("$.data.length()")
                .isEqualTo(2)
                .jsonPath("$.data[?(@.group=='openai/gpt-5-nano')].requests")
                .isEqualTo(10)
                .jsonPath("$.data[?(@.group=='openai/gpt-5-nano')].prompt_tokens")
                .isEqualTo(100)
                .jsonPath("$.data[?(@.group=='openai/gpt-5-nano')].completion_tokens")
                .isEqualTo(200)
                .jsonPath("$.data[?(@.group=='openai/gpt-5-nano')].total_tokens")
                .isEqualTo(300)
                .jsonPath("$.data[?(@.group=='openai/gpt-5-nano')].cost_usd")
                .isEqualTo(0.01)
                .jsonPath("$.data[?(@.group=='openai/gpt-5-nano')].errors")
                .isEqualTo(0)
                .jsonPath("$.data[?(@.group=='openai/gpt-5-nano')].p50_latency_ms")
                .isEqualTo(500)
                .jsonPath("$.data[?(@.group=='openai/gpt-5-nano')].p95_latency_ms")
                .isEqualTo(1000)
                .jsonPath("$.data[?(@.group=='openai/gpt-5-nano')].p50_ttft_ms")
                .isEqualTo(50)
                .jsonPath("$.data[?(@.group=='openai/gpt-5-nano')].p95_ttft_ms")
                .isEqualTo(100);
    }

    /** A sum of 30 dollars reads 30, not {@code 3E+1}; a hundredth of a micro-dollar not {@code 1E-8}. */
    @Test
    void costsAreWrittenAsPlainDecimals() {
        Instant day = Instant.parse("2026-10-01T10:00:00Z");
        repository
                .insert(List.of(
                        UsageFixtures.record("key-c", "pricey/model", 1, 1, "15", day),
                        UsageFixtures.record("key-c", "pricey/model", 1, 1, "15", day),
                        UsageFixtures.record("key-c", "cheap/model", 1, 1, "0.00000001", day)))
                .block(Duration.ofSeconds(5));
        String body = HttpText.get(client, "/admin/usage?from=2026-10-01&to=2026-10-02&group_by=model");
        assertThat(body)
                .contains("\"cost_usd\":30,", "\"cost_usd\":0.00000001,")
                .doesNotContain("E+", "E-");
    }

    /** PostgreSQL refuses a NUL in a query: a 500 before this check, now a 400 naming the parameter. */
    @Test
    void aFilterWithAControlCharacterIsABadRequest() {
        for (String query : List.of("key_id=key%00a", "model=openai%2Fgpt%0Ax")) {
            client.get()
                    .uri(URI.create("/admin/usage?" + query))
                    .exchange()
                    .expectStatus()
                    .isBadRequest()
                    .expectBody()
                    .jsonPath("$.error.param")
                    .isEqualTo(query.substring(0, query.indexOf('=')));
        }
        // A trailing line break (an id sent from a file) is stripped, as before.
        client.get()
                .uri(URI.create("/admin/usage?from=2026-11-01&to=2026-11-03&key_id=key-a%0A"))
                .exchange()
                .expectStatus()
                .isOk();
    }

    /** The contract's template {@code ?key_id=&from=&to=&group_by=} filled with nothing: every default. */
    @Test
    void emptyParametersMeanTheirDefaults() {
        client.get()
                .uri("/admin/usage?key_id=&model=&from=2026-11-01&to=2026-11-03&group_by=")
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody()
                .jsonPath("$.data.length()")
                .isEqualTo(2)
                .jsonPath("$.data[?(@.group=='openai/gpt-5-nano')].requests")
                .isEqualTo(10);
    }

    @Test
    void timeToFirstTokenPercentilesCountOnlyStreams() {
        // A non-streaming answer's first token is its whole answer: it would pass for a slow stream.
        repository
                .insert(List.of(
                        withLatency(UsageFixtures.record("key-a", "mixed/model", 1, 1, null, DAY1), true, 200, 100),
                        withLatency(UsageFixtures.record("key-a", "mixed/model", 1, 1, null, DAY1), false, 5000, 5000)))
                .block(Duration.ofSeconds(5));
        client.get()
                .uri("/admin/usage?from=2026-11-01&to=2026-11-03&group_by=model&model=mixed/model")
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody()
                .jsonPath("$.data[0].requests")
                .isEqualTo(2)
                .jsonPath("$.data[0].p95_latency_ms")
                .isEqualTo(5000)
                .jsonPath("$.data[0].p95_ttft_ms")
                .isEqualTo(100);
    }

    /** The same period with an offset, however the client wrote its '+' in the URL. */
    @ParameterizedTest
    @ValueSource(strings = {"%2B02:00", "+02:00", "%2002:00"})
    void instantsWithAnOffsetNameTheSamePeriod(String offset) {
        client.get()
                .uri(URI.create("/admin/usage?key_id=key-b&from=2026-11-01T02:00:00" + offset
                        + "&to=2026-11-03T02:00:00" + offset + "&group_by=day"))
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody()
                .jsonPath("$.data.length()")
                .isEqualTo(1)
                .jsonPath("$.data[0].group")
                .isEqualTo("2026-11-02");
    }

    @Test
    void reportFiltersByKeyAndGroupsByDayAndHour() {
        client.get()
                .uri("/admin/usage?key_id=key-b&from=2026-11-01T00:00:00Z&to=2026-11-03T00:00:00Z&group_by=day")
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody()
                .jsonPath("$.data.length()")
                .isEqualTo(1)
                .jsonPath("$.data[0].group")
                .isEqualTo("2026-11-02")
                .jsonPath("$.data[0].errors")
                .isEqualTo(1)
                .jsonPath("$.data[0].cost_usd")
                .isEqualTo(0);
        client.get()
                .uri("/admin/usage?from=2026-11-01&to=2026-11-03&group_by=hour")
                .exchange()
                .expectBody()
                .jsonPath("$.data[0].group")
                .isEqualTo("2026-11-01T10:00:00Z")
                .jsonPath("$.data[1].group")
                .isEqualTo("2026-11-02T08:00:00Z");
    }

    @Test
    void reportGroupedByKeyNamesTheKey() {
        client.get()
                .uri("/admin/usage?from=2026-11-01&to=2026-11-03&group_by=key")
                .exchange()
                .expectBody()
                .jsonPath("$.data[0].group")
                .isEqualTo("key-a")
                .jsonPath("$.data[0].key_name")
                .isEqualTo("name-key-a");
    }

    @Test
    void badParametersAreOpenAiShaped400s() {
        client.get()
                .uri("/admin/usage?group_by=week")
                .exchange()
                .expectStatus()
                .isBadRequest()
                .expectBody()
                .jsonPath("$.error.param")
                .isEqualTo("group_by");
        client.get()
                .uri("/admin/usage?from=yesterday")
                .exchange()
                .expectStatus()
                .isBadRequest()
                .expectBody()
                .jsonPath("$.error.param")
                .isEqualTo("from");
        // Parsed, but not an instant either database can compare with: a 400, not a 500.
        for (String to : List.of("99999999999999999", "%2B300000-01-01T00:00:00Z")) {
            client.get()
                    .uri("/admin/usage?to=" + to)
                    .exchange()
                    .expectStatus()
                    .isBadRequest()
                    .expectBody()
                    .jsonPath("$.error.param")
                    .isEqualTo("to");
        }
    }

    @Test
    void recentListsTheLatestRowsNewestFirst() {
        client.get()
                .uri("/admin/usage/recent?limit=2")
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody()
                .jsonPath("$.data.length()")
                .isEqualTo(2)
                .jsonPath("$.data[0].key_id")
                .isEqualTo("key-b")
                .jsonPath("$.data[0].outcome")
                .isEqualTo("upstream_unreachable")
                .jsonPath("$.data[0].status")
                .isEqualTo(502)
                .jsonPath("$.data[1].prompt_tokens")
                .isEqualTo(10);
    }

    @Test
    void exportIsCsvWithOneLinePerRowAndDefusedFormulas() {
        String csv = client.get()
                .uri("/admin/usage/export.csv?from=2026-11-01&to=2026-11-03")
                .exchange()
                .expectStatus()
                .isOk()
                .expectHeader()
                .contentTypeCompatibleWith("text/csv")
                .expectBody(String.class)
                .returnResult()
                .getResponseBody();
        String[] lines = csv.split("\r\n");
        assertThat(lines).hasSize(12);
        assertThat(lines[0]).startsWith("created_at,request_id,key_id");
        assertThat(lines[11]).contains(",'=cmd|' /C calc'!A0,").contains(",upstream_unreachable,");
        assertThat(lines[1]).contains(",0.001,upstream,");
    }
}
