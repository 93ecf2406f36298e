package io.switchboard.usage;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.StringJoiner;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The {@code usage} table's columns as the writers set them, each with its name, its type and its
 * value from a record, in one list: the R2DBC and the JDBC writers' statements, parameters and values
 * all come from it, so they bind exactly the same row and cannot fall out of step.
 */
final class UsageColumns {

    /** A column: {@code type} is what R2DBC binds a null as. */
    record Column(String name, Class<?> type, Function<UsageRecord, @Nullable Object> value) {}

    /** Every column an append sets, in the order of {@link #NAMES}. */
    static final List<Column> APPENDED = List.of(
            new Column("entry_id", String.class, UsageRecord::entryId),
            text("request_id", 200, UsageRecord::requestId),
            text("key_id", 100, UsageRecord::keyId),
            text("key_name", 200, UsageRecord::keyName),
            text("endpoint", 32, UsageRecord::endpoint),
            text("requested_model", 200, UsageRecord::requestedModel),
            text("model", 200, UsageRecord::model),
            text("served_model", 200, UsageRecord::servedModel),
            text("provider", 100, UsageRecord::provider),
            text("upstream_provider", 200, UsageRecord::upstreamProvider),
            text("generation_id", 200, UsageRecord::generationId),
            new Column("stream", Boolean.class, UsageRecord::stream),
            new Column("status", Integer.class, UsageRecord::status),
            new Column("outcome", String.class, r -> r.outcome().value()),
            new Column("prompt_tokens", Long.class, UsageRecord::promptTokens),
            new Column("completion_tokens", Long.class, UsageRecord::completionTokens),
            new Column("total_tokens", Long.class, UsageRecord::totalTokens),
            new Column("cached_tokens", Long.class, UsageRecord::cachedTokens),
            new Column("reasoning_tokens", Long.class, UsageRecord::reasoningTokens),
            new Column("estimated", Boolean.class, UsageRecord::estimated),
            new Column("cost_usd", BigDecimal.class, UsageRecord::costUsd),
            text("cost_source", 16, UsageRecord::costSource),
            new Column("latency_ms", Long.class, UsageRecord::latencyMs),
            new Column("ttfb_ms", Long.class, UsageRecord::ttfbMs),
            new Column("ttft_ms", Long.class, UsageRecord::ttftMs),
            new Column("created_at", OffsetDateTime.class, r -> utc(r.createdAt())));

    /** The columns a correction replaces with the upstream's final accounting. */
    private static final List<Column> CORRECTED = pick(
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "cached_tokens",
            "reasoning_tokens",
            "estimated",
            "cost_usd",
            "cost_source");

    /** A correction's parameters: the corrected columns, then the row's entry id. */
    static final List<Column> CORRECTION_PARAMETERS =
            Stream.concat(CORRECTED.stream(), pick("entry_id").stream()).toList();

    /** The appended columns' names, comma-separated, also what the reports select. */
    static final String NAMES = APPENDED.stream().map(Column::name).collect(Collectors.joining(", "));

    private UsageColumns() {}

    /** The append, with parameters written by {@code marker} (1-based: {@code $1} for R2DBC, {@code ?} for JDBC). */
    static String insertSql(IntFunction<String> marker) {
        return insertSql(1, marker);
    }

    /**
     * The append of {@code rows} rows in one statement, their parameters numbered on from one row to
     * the next (with 26 columns, row 2's first is {@code $27}).
     */
    static String insertSql(int rows, IntFunction<String> marker) {
        StringJoiner tuples = new StringJoiner(", ");
        for (int row = 0; row < rows; row++) {
            StringJoiner values = new StringJoiner(", ", "(", ")");
            for (int i = 1; i <= APPENDED.size(); i++) {
                values.add(marker.apply(row * APPENDED.size() + i));
            }
            tuples.add(values.toString());
        }
        return "INSERT INTO usage (" + NAMES + ") VALUES " + tuples;
    }

    /** The correction of one row's numbers, by entry id (the last of {@link #CORRECTION_PARAMETERS}). */
    static String correctSql(IntFunction<String> marker) {
        StringJoiner set = new StringJoiner(", ");
        for (int i = 0; i < CORRECTED.size(); i++) {
            set.add(CORRECTED.get(i).name() + " = " + marker.apply(i + 1));
        }
        return "UPDATE usage SET " + set + " WHERE entry_id = " + marker.apply(CORRECTED.size() + 1);
    }

    static OffsetDateTime utc(Instant instant) {
        return OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
    }

    /**
     * A text column of at most {@code width} characters (its width in the schema): longer values are
     * cut, and NUL characters, which PostgreSQL refuses in text, become U+FFFD. Values come from
     * clients, upstreams and configuration; a row the database refused would stop the ledger's batch.
     */
    private static Column text(String name, int width, Function<UsageRecord, @Nullable String> value) {
        return new Column(name, String.class, r -> storable(value.apply(r), width));
    }

    static @Nullable String storable(@Nullable String text, int width) {
        if (text == null) {
            return null;
        }
        String cut = text.length() <= width ? text : text.substring(0, width);
        return cut.indexOf('\u0000') < 0 ? cut : cut.replace('\u0000', '\uFFFD');
    }

    private static List<Column> pick(String... names) {
        return Arrays.stream(names)
                .map(name -> APPENDED.stream()
                        .filter(column -> column.name().equals(name))
                        .findFirst()
                        .orElseThrow())
                .toList();
    }
}
