package io.switchboard.usage;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.StringJoiner;
import java.util.function.IntFunction;
import org.jspecify.annotations.Nullable;

/**
 * The {@code usage} table's two writes (an append, a correction) as SQL and as values in parameter
 * order, so that the R2DBC and the JDBC writers bind exactly the same row.
 */
final class UsageRowValues {

    static final String COLUMNS = "entry_id, request_id, key_id, key_name, endpoint, requested_model, model,"
            + " served_model, provider, upstream_provider, generation_id, stream, status, outcome, prompt_tokens,"
            + " completion_tokens, total_tokens, cached_tokens, reasoning_tokens, estimated, cost_usd, cost_source,"
            + " latency_ms, ttfb_ms, ttft_ms, created_at";

    /** The type of each appended value, for binding a null (R2DBC needs it). */
    static final Class<?>[] INSERT_TYPES = {
        String.class,
        String.class,
        String.class,
        String.class,
        String.class,
        String.class,
        String.class,
        String.class,
        String.class,
        String.class,
        String.class,
        Boolean.class,
        Integer.class,
        String.class,
        Long.class,
        Long.class,
        Long.class,
        Long.class,
        Long.class,
        Boolean.class,
        BigDecimal.class,
        String.class,
        Long.class,
        Long.class,
        Long.class,
        OffsetDateTime.class
    };

    static final Class<?>[] CORRECT_TYPES = {
        Long.class,
        Long.class,
        Long.class,
        Long.class,
        Long.class,
        Boolean.class,
        BigDecimal.class,
        String.class,
        String.class
    };

    private static final String[] CORRECT_COLUMNS = {
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cached_tokens",
        "reasoning_tokens",
        "estimated",
        "cost_usd",
        "cost_source"
    };

    private UsageRowValues() {}

    /** The append, with parameters written by {@code marker} (1-based: {@code $1} for R2DBC, {@code ?} for JDBC). */
    static String insertSql(IntFunction<String> marker) {
        StringJoiner values = new StringJoiner(", ", "(", ")");
        for (int i = 1; i <= INSERT_TYPES.length; i++) {
            values.add(marker.apply(i));
        }
        return "INSERT INTO usage (" + COLUMNS + ") VALUES " + values;
    }

    /** The correction of one row's numbers, by entry id (the last parameter). */
    static String correctSql(IntFunction<String> marker) {
        StringJoiner set = new StringJoiner(", ");
        for (int i = 0; i < CORRECT_COLUMNS.length; i++) {
            set.add(CORRECT_COLUMNS[i] + " = " + marker.apply(i + 1));
        }
        return "UPDATE usage SET " + set + " WHERE entry_id = " + marker.apply(CORRECT_COLUMNS.length + 1);
    }

    /** The appended row's values, in the order of {@link #COLUMNS}; strings cut to the columns' 200 characters. */
    static @Nullable Object[] insertValues(UsageRecord r) {
        return new @Nullable Object[] {
            r.entryId(),
            cut(r.requestId()),
            cut(r.keyId()),
            cut(r.keyName()),
            r.endpoint(),
            cut(r.requestedModel()),
            cut(r.model()),
            cut(r.servedModel()),
            cut(r.provider()),
            cut(r.upstreamProvider()),
            cut(r.generationId()),
            r.stream(),
            r.status(),
            r.outcome().value(),
            r.promptTokens(),
            r.completionTokens(),
            r.totalTokens(),
            r.cachedTokens(),
            r.reasoningTokens(),
            r.estimated(),
            r.costUsd(),
            r.costSource(),
            r.latencyMs(),
            r.ttfbMs(),
            r.ttftMs(),
            utc(r.createdAt())
        };
    }

    /** The correction's values: the new numbers, then the entry id. */
    static @Nullable Object[] correctValues(UsageRecord r) {
        return new @Nullable Object[] {
            r.promptTokens(),
            r.completionTokens(),
            r.totalTokens(),
            r.cachedTokens(),
            r.reasoningTokens(),
            r.estimated(),
            r.costUsd(),
            r.costSource(),
            r.entryId()
        };
    }

    static OffsetDateTime utc(Instant instant) {
        return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    private static @Nullable String cut(@Nullable String value) {
        return value == null || value.length() <= 200 ? value : value.substring(0, 200);
    }
}
