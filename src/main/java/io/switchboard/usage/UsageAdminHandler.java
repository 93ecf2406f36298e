package io.switchboard.usage;

import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.core.StreamWriteFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The usage reports of the admin API (behind the admin key like all of {@code /admin/**}):
 * {@code GET /admin/usage} (sums and percentiles per model, key, day or hour),
 * {@code GET /admin/usage/recent} (the latest rows, for the console's live page) and
 * {@code GET /admin/usage/export.csv} (every row of a period, streamed, for finance).
 */
public final class UsageAdminHandler {

    /** Without {@code from}, reports cover this much time before {@code to}. */
    static final Duration DEFAULT_WINDOW = Duration.ofDays(31);
    /** A report aggregates at most this many rows in memory; narrow the period past it. */
    static final long MAX_REPORT_ROWS = 1_000_000;

    private static final MediaType CSV = new MediaType("text", "csv", StandardCharsets.UTF_8);

    private final UsageRepository repository;
    private final long maxReportRows;
    private final DataBufferFactory buffers = DefaultDataBufferFactory.sharedInstance;

    public UsageAdminHandler(UsageRepository repository) {
        this(repository, MAX_REPORT_ROWS);
    }

    UsageAdminHandler(UsageRepository repository, long maxReportRows) {
        this.repository = repository;
        this.maxReportRows = maxReportRows;
    }

    public RouterFunction<ServerResponse> routes() {
        return RouterFunctions.route()
                .GET("/admin/usage", this::report)
                .GET("/admin/usage/recent", this::recent)
                .GET("/admin/usage/export.csv", this::export)
                .build();
    }

    Mono<ServerResponse> report(ServerRequest request) {
        Filter filter = Filter.of(request);
        UsageReport.GroupBy groupBy;
        try {
            String grouping = request.queryParam("group_by").orElse("");
            groupBy = UsageReport.GroupBy.parse(grouping.isBlank() ? "model" : grouping.strip());
        } catch (IllegalArgumentException e) {
            throw GatewayException.of(
                    ErrorCode.INVALID_REQUEST, "group_by must be model, key, day or hour.", "group_by");
        }
        // One row past the bound says the period holds more: refused, never summed short in silence.
        AtomicLong rows = new AtomicLong();
        return repository
                .find(filter.keyId, filter.model, filter.from, filter.to, maxReportRows + 1)
                .doOnNext(row -> {
                    if (rows.incrementAndGet() > maxReportRows) {
                        throw GatewayException.of(
                                ErrorCode.INVALID_REQUEST,
                                "The period holds more than " + maxReportRows
                                        + " requests, more than a report sums: narrow from/to, or use /admin/usage/export.csv.",
                                "from");
                    }
                })
                .reduce(new UsageReport(groupBy), UsageReport::add)
                .flatMap(report -> json(report.render()));
    }

    Mono<ServerResponse> recent(ServerRequest request) {
        int limit = intParam(request, "limit", 50, 1, 1000);
        return repository
                .recent(limit)
                .map(UsageAdminHandler::recentRow)
                .collectList()
                .flatMap(rows -> {
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("object", "list");
                    body.put("data", rows);
                    return json(body);
                });
    }

    /** Rows per query of an export: a page is held in memory while it is written out. */
    private static final int EXPORT_PAGE = 1000;

    Mono<ServerResponse> export(ServerRequest request) {
        Filter filter = Filter.of(request);
        // The header waits for the first page's answer: a database that is down is then a 503, not
        // a 200 with the header and a cut connection (which a scheduled export saves as no usage).
        Flux<DataBuffer> lines = repository
                .findAll(filter.keyId, filter.model, filter.from, filter.to, EXPORT_PAGE)
                .map(UsageCsv::line)
                .switchOnFirst((first, all) -> first.isOnError() ? all : Flux.concat(Flux.just(UsageCsv.HEADER), all))
                .map(line -> buffers.wrap(line.getBytes(StandardCharsets.UTF_8)));
        return ServerResponse.ok()
                .contentType(CSV)
                .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"usage.csv\"")
                .body(BodyInserters.fromDataBuffers(lines));
    }

    /**
     * The reports' JSON, written here rather than by the application's codec: that one leaves out
     * null values ({@code spring.jackson.default-property-inclusion=non_null}), and a report's null
     * (no time to first token in a group without streams, no cost for an unpriced row) is a field
     * scripts read, documented as null. Costs are written as plain decimals, never as {@code 3E+1}.
     */
    private static final JsonMapper REPORT_JSON = JsonMapper.builder()
            .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
            .build();

    private static Mono<ServerResponse> json(Object body) {
        return ServerResponse.ok()
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(REPORT_JSON.writeValueAsBytes(body));
    }

    private static Map<String, Object> recentRow(UsageRecord r) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("request_id", r.requestId());
        row.put("key_id", r.keyId());
        row.put("key_name", r.keyName());
        row.put("model", r.model());
        row.put("served_model", r.servedModel());
        row.put("status", r.status());
        row.put("outcome", r.outcome().value());
        row.put("stream", r.stream());
        row.put("prompt_tokens", r.promptTokens());
        row.put("completion_tokens", r.completionTokens());
        row.put("total_tokens", r.totalTokens());
        row.put("estimated", r.estimated());
        row.put("cost_usd", r.costUsd());
        row.put("latency_ms", r.latencyMs());
        row.put("ttft_ms", r.ttftMs());
        row.put("created_at", r.createdAt().toString());
        return row;
    }

    private static int intParam(ServerRequest request, String name, int fallback, int min, int max) {
        String value = request.queryParam(name).orElse(null);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Math.max(min, Math.min(max, Integer.parseInt(value.strip())));
        } catch (NumberFormatException e) {
            throw GatewayException.of(ErrorCode.INVALID_REQUEST, name + " must be a number.", name);
        }
    }

    /** The filter shared by the report and the export. */
    private record Filter(@Nullable String keyId, @Nullable String model, Instant from, Instant to) {

        static Filter of(ServerRequest request) {
            Instant to = instant(request, "to", Instant.now());
            Instant from = instant(request, "from", to.minus(DEFAULT_WINDOW));
            if (!from.isBefore(to)) {
                throw GatewayException.of(ErrorCode.INVALID_REQUEST, "from must be before to.", "from");
            }
            return new Filter(name(request, "key_id"), name(request, "model"), from, to);
        }

        /** A key id or model: PostgreSQL refuses a NUL in a query (a 500), and no name holds a control. */
        private static @Nullable String name(ServerRequest request, String parameter) {
            if (request.queryParam(parameter).orElse("").strip().chars().anyMatch(Character::isISOControl)) {
                throw GatewayException.of(
                        ErrorCode.INVALID_REQUEST, parameter + " must not hold control characters.", parameter);
            }
            return text(request, parameter);
        }

        private static @Nullable String text(ServerRequest request, String name) {
            String value = request.queryParam(name).orElse(null);
            return value == null || value.isBlank() ? null : value.strip();
        }

        /**
         * An ISO-8601 instant with {@code Z} or an offset ({@code 2026-11-01T00:00:00Z},
         * {@code 2026-11-01T02:00:00+02:00}), a date ({@code 2026-11-01}, UTC) or epoch seconds.
         */
        private static Instant instant(ServerRequest request, String name, Instant fallback) {
            String value = text(request, name);
            if (value == null) {
                return fallback;
            }
            try {
                Instant instant = parse(value);
                // Both databases take years 1 to 9999 (PostgreSQL refuses a query past 294276, H2 not).
                if (!instant.isBefore(EARLIEST) && instant.isBefore(PAST_LATEST)) {
                    return instant;
                }
            } catch (DateTimeException | NumberFormatException e) {
                // a 400 below, as for a value out of range
            }
            throw GatewayException.of(
                    ErrorCode.INVALID_REQUEST,
                    name + " must be an ISO-8601 instant, a date or epoch seconds, in the years 1 to 9999.",
                    name);
        }

        private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
        private static final Instant PAST_LATEST = Instant.parse("+10000-01-01T00:00:00Z");

        private static Instant parse(String value) {
            if (value.chars().allMatch(Character::isDigit)) {
                return Instant.ofEpochSecond(Long.parseLong(value));
            }
            if (value.length() == 10) {
                return LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant();
            }
            // A '+' written into a URL unencoded arrives as a space: "...T02:00:00 02:00".
            return OffsetDateTime.parse(value.replace(' ', '+')).toInstant();
        }
    }
}
