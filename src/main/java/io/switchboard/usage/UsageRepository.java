package io.switchboard.usage;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The {@code usage} table (migration V10): batched appends, one-row corrections, and the reads of the
 * admin reports. Bound parameters only. Runs on H2 and PostgreSQL alike.
 */
public final class UsageRepository {

    private static final String INSERT = UsageColumns.insertSql(i -> "$" + i);

    /**
     * Rows per insert statement: PostgreSQL takes at most 65535 parameters in one, 26 per row here. A
     * bounded number of statement texts (one per row count up to this), each prepared once.
     */
    static final int ROWS_PER_STATEMENT = 100;

    private static final Map<Integer, String> INSERTS = new ConcurrentHashMap<>();

    private static final String CORRECT = UsageColumns.correctSql(i -> "$" + i);

    private final ConnectionFactory connections;

    public UsageRepository(ConnectionFactory connections) {
        this.connections = connections;
    }

    /**
     * Appends the records in one batch, in one transaction. A batch refused for a duplicate entry id
     * (a replay of rows that were already written) is retried row by row, skipping the duplicates.
     */
    public Mono<Void> insert(List<UsageRecord> records) {
        if (records.isEmpty()) {
            return Mono.empty();
        }
        return one(connection -> inTransaction(
                        connection,
                        Flux.defer(() -> Flux.fromIterable(chunks(records))
                                .concatMap(chunk -> confirmed(multiRowInsert(connection, chunk), chunk.size())))))
                .onErrorResume(
                        R2dbcDataIntegrityViolationException.class,
                        e -> Flux.fromIterable(records)
                                .concatMap(record -> one(connection -> {
                                            Statement one = connection.createStatement(INSERT);
                                            bindInsert(one, record);
                                            return confirmed(one, 1);
                                        })
                                        .onErrorResume(R2dbcDataIntegrityViolationException.class, dup -> Mono.empty()))
                                .then());
    }

    /**
     * The batch in statements of at most {@link #ROWS_PER_STATEMENT} rows each. One statement of many
     * rows, not one row bound {@code add()} times: r2dbc-postgresql sends such a batch as a Bind and an
     * Execute per row and decodes a result for each, which made the ledger's writes on PostgreSQL
     * cost the gateway more CPU per row than embedded H2 running in its own process (docs/benchmarks.md).
     */
    private static List<List<UsageRecord>> chunks(List<UsageRecord> records) {
        List<List<UsageRecord>> chunks = new ArrayList<>(records.size() / ROWS_PER_STATEMENT + 1);
        for (int from = 0; from < records.size(); from += ROWS_PER_STATEMENT) {
            chunks.add(records.subList(from, Math.min(records.size(), from + ROWS_PER_STATEMENT)));
        }
        return chunks;
    }

    private static Statement multiRowInsert(Connection connection, List<UsageRecord> rows) {
        Statement statement = connection.createStatement(
                INSERTS.computeIfAbsent(rows.size(), n -> UsageColumns.insertSql(n, i -> "$" + i)));
        for (int row = 0; row < rows.size(); row++) {
            bind(statement, UsageColumns.APPENDED, rows.get(row), row * UsageColumns.APPENDED.size());
        }
        return statement;
    }

    /**
     * Runs an insert and fails unless the database confirmed every row. r2dbc-postgresql 1.1 can end
     * a statement on a connection that was just lost with no result and no error, and then skips the
     * commit as there is no transaction ("Skipping commit transaction because status is IDLE"):
     * without this check the ledger took such a batch as written and lost it (seen once in
     * {@code DatabaseFaultsIT}: 6 replayed rows never reached the table).
     */
    private static Mono<Void> confirmed(Statement insert, int rows) {
        return Flux.from(insert.execute())
                .concatMap(Result::getRowsUpdated)
                .reduce(0L, Long::sum)
                .flatMap(updated -> updated == rows
                        ? Mono.<Void>empty()
                        : Mono.error(new IllegalStateException(
                                "the database confirmed " + updated + " of " + rows + " inserted usage rows")));
    }

    /** Replaces a row's numbers with the upstream's final accounting; inserts the row if it is not there yet. */
    public Mono<Void> correct(UsageRecord record) {
        return one(connection -> {
                    Statement statement = connection.createStatement(CORRECT);
                    bind(statement, UsageColumns.CORRECTION_PARAMETERS, record);
                    return Flux.from(statement.execute())
                            .concatMap(Result::getRowsUpdated)
                            .reduce(0L, Long::sum);
                })
                .flatMap(updated -> updated > 0 ? Mono.<Void>empty() : insert(List.of(record)));
    }

    /** Rows matching the filter, oldest first, at most {@code limit}, streamed (never collected here). */
    public Flux<UsageRecord> find(
            @Nullable String keyId, @Nullable String model, Instant from, Instant to, long limit) {
        return rows(keyId, model, from, to, null, limit);
    }

    /**
     * Every row matching the filter, oldest first, read in pages of {@code pageSize}: each page is
     * its own query, its connection given back before the next, so that a slow download (a CSV
     * export) holds no connection the ledger and the key lookups share.
     */
    public Flux<UsageRecord> findAll(
            @Nullable String keyId, @Nullable String model, Instant from, Instant to, int pageSize) {
        return rows(keyId, model, from, to, null, pageSize)
                .collectList()
                .expand(page -> page.size() < pageSize
                        ? Mono.empty()
                        : rows(keyId, model, from, to, page.get(page.size() - 1), pageSize)
                                .collectList())
                .concatMapIterable(page -> page);
    }

    /** The filter's rows after {@code after} (in the order of creation time, then entry id), at most {@code limit}. */
    private Flux<UsageRecord> rows(
            @Nullable String keyId,
            @Nullable String model,
            Instant from,
            Instant to,
            @Nullable UsageRecord after,
            long limit) {
        StringBuilder sql = new StringBuilder("SELECT ")
                .append(UsageColumns.NAMES)
                .append(" FROM usage WHERE created_at >= $1 AND created_at < $2");
        List<Object> params = new ArrayList<>(List.of(UsageColumns.utc(from), UsageColumns.utc(to)));
        if (keyId != null) {
            params.add(keyId);
            sql.append(" AND key_id = $").append(params.size());
        }
        if (model != null) {
            params.add(model);
            sql.append(" AND model = $").append(params.size());
        }
        if (after != null) {
            params.add(UsageColumns.utc(after.createdAt()));
            int at = params.size();
            params.add(after.entryId());
            sql.append(" AND (created_at > $")
                    .append(at)
                    .append(" OR (created_at = $")
                    .append(at)
                    .append(" AND entry_id > $")
                    .append(at + 1)
                    .append("))");
        }
        sql.append(" ORDER BY created_at, entry_id LIMIT ").append(limit);
        return many(connection -> {
            Statement statement = connection.createStatement(sql.toString());
            for (int i = 0; i < params.size(); i++) {
                statement.bind(i, params.get(i));
            }
            return Flux.from(statement.execute()).concatMap(result -> result.map(UsageRepository::read));
        });
    }

    /**
     * Rows of {@code providers} created in {@code [from, to)} whose numbers still wait for the
     * upstream's accounting (an estimate, or a client that left, with a generation id, not settled
     * yet), newest first: the settlements a stop interrupted, resumed by the next start. Only the
     * providers that settle: rows of others (OpenAI's, a vLLM's response ids) filled the limit, and
     * oldest first the same unsettleable rows came back at every start, crowding out the rest.
     */
    public Flux<UsageRecord> unsettled(Instant from, Instant to, java.util.Collection<String> providers, int limit) {
        if (providers.isEmpty()) {
            return Flux.empty();
        }
        List<String> names = List.copyOf(providers);
        StringBuilder in = new StringBuilder();
        for (int i = 0; i < names.size(); i++) {
            in.append(i == 0 ? "$" : ", $").append(i + 3);
        }
        String sql = "SELECT " + UsageColumns.NAMES + " FROM usage WHERE created_at >= $1 AND created_at < $2"
                + " AND provider IN (" + in + ")"
                + " AND generation_id IS NOT NULL AND (cost_source IS NULL OR cost_source <> 'settled')"
                + " AND (estimated = TRUE OR outcome = 'client_closed') ORDER BY created_at DESC, id DESC LIMIT "
                + Math.max(1, limit);
        return many(connection -> {
            Statement statement = connection
                    .createStatement(sql)
                    .bind(0, UsageColumns.utc(from))
                    .bind(1, UsageColumns.utc(to));
            for (int i = 0; i < names.size(); i++) {
                statement.bind(i + 2, names.get(i));
            }
            return Flux.from(statement.execute()).concatMap(result -> result.map(UsageRepository::read));
        });
    }

    /** The latest {@code limit} rows, newest first. */
    public Flux<UsageRecord> recent(int limit) {
        String sql = "SELECT " + UsageColumns.NAMES + " FROM usage ORDER BY id DESC LIMIT " + Math.max(1, limit);
        return many(connection -> Flux.from(connection.createStatement(sql).execute())
                .concatMap(result -> result.map(UsageRepository::read)));
    }

    /**
     * What each key spent in rows created before {@code before}: the rows of earlier runs, without
     * those of this process (which its limits counted themselves as its requests settled).
     */
    public Flux<KeySpend> spendByKey(Instant before) {
        String sql = "SELECT key_id, SUM(cost_usd) AS spent FROM usage"
                + " WHERE cost_usd IS NOT NULL AND created_at < $1 GROUP BY key_id";
        return many(connection -> Flux.from(connection
                        .createStatement(sql)
                        .bind(0, UsageColumns.utc(before))
                        .execute())
                .concatMap(result -> result.map(row ->
                        new KeySpend(row.get("key_id", String.class), orZero(row.get("spent", BigDecimal.class))))));
    }

    /** A key's spend. */
    public record KeySpend(String keyId, BigDecimal spentUsd) {}

    // The statements run on the bounded-elastic scheduler: the embedded H2 driver does its I/O on
    // the thread that runs them, and a connection pool may hand the connection over on one of its
    // own non-blocking threads. PostgreSQL's driver does not care.
    /**
     * Runs {@code work} in one transaction: the batch commits once, not once per row. In auto-commit
     * the embedded database committed every row of a batch on its own, the larger part of its work
     * per request (see docs/benchmarks.md). On failure nothing of the batch stays.
     */
    private static Mono<Void> inTransaction(Connection connection, Publisher<?> work) {
        return Mono.from(connection.beginTransaction())
                .thenMany(work)
                .then(Mono.defer(() -> Mono.from(connection.commitTransaction())))
                .onErrorResume(error -> Mono.defer(() -> Mono.from(connection.rollbackTransaction()))
                        .onErrorResume(rollbackFailed -> Mono.empty())
                        .then(Mono.error(error)));
    }

    private <T> Flux<T> many(Function<Connection, Publisher<T>> work) {
        return Flux.usingWhen(connection(), work, Connection::close).subscribeOn(Schedulers.boundedElastic());
    }

    private <T> Mono<T> one(Function<Connection, Mono<T>> work) {
        return Mono.usingWhen(connection(), work, Connection::close).subscribeOn(Schedulers.boundedElastic());
    }

    private Mono<Connection> connection() {
        return Mono.<Connection>from(connections.create()).publishOn(Schedulers.boundedElastic());
    }

    private static void bindInsert(Statement statement, UsageRecord record) {
        bind(statement, UsageColumns.APPENDED, record);
    }

    private static void bind(Statement statement, List<UsageColumns.Column> parameters, UsageRecord record) {
        bind(statement, parameters, record, 0);
    }

    /** Binds the record's values from parameter index {@code first} on. */
    private static void bind(Statement statement, List<UsageColumns.Column> parameters, UsageRecord record, int first) {
        for (int i = 0; i < parameters.size(); i++) {
            UsageColumns.Column parameter = parameters.get(i);
            Object value = parameter.value().apply(record);
            if (value == null) {
                statement.bindNull(first + i, parameter.type());
            } else {
                statement.bind(first + i, value);
            }
        }
    }

    static UsageRecord read(Readable row) {
        return new UsageRecord(
                row.get("entry_id", String.class),
                row.get("request_id", String.class),
                row.get("key_id", String.class),
                row.get("key_name", String.class),
                row.get("endpoint", String.class),
                row.get("requested_model", String.class),
                row.get("model", String.class),
                row.get("served_model", String.class),
                row.get("provider", String.class),
                row.get("upstream_provider", String.class),
                row.get("generation_id", String.class),
                Boolean.TRUE.equals(row.get("stream", Boolean.class)),
                number(row.get("status", Integer.class)).intValue(),
                UsageOutcome.fromValue(row.get("outcome", String.class)),
                number(row.get("prompt_tokens", Long.class)).longValue(),
                number(row.get("completion_tokens", Long.class)).longValue(),
                number(row.get("total_tokens", Long.class)).longValue(),
                number(row.get("cached_tokens", Long.class)).longValue(),
                number(row.get("reasoning_tokens", Long.class)).longValue(),
                Boolean.TRUE.equals(row.get("estimated", Boolean.class)),
                row.get("cost_usd", BigDecimal.class),
                row.get("cost_source", String.class),
                number(row.get("latency_ms", Long.class)).longValue(),
                row.get("ttfb_ms", Long.class),
                row.get("ttft_ms", Long.class),
                row.get("created_at", OffsetDateTime.class).toInstant());
    }

    private static Number number(@Nullable Number value) {
        return value == null ? 0 : value;
    }

    private static BigDecimal orZero(@Nullable BigDecimal value) {
        return value == null ? BigDecimal.ZERO : value;
    }
}
