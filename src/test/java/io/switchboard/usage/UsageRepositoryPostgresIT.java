package io.switchboard.usage;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The migrations and every statement of the repository on a real PostgreSQL. */
class UsageRepositoryPostgresIT {

    private static TestDatabases.Database db;
    private static UsageRepository repository;

    @TempDir
    Path dir;

    @BeforeAll
    static void migrate() {
        db = TestDatabases.postgres();
        repository = new UsageRepository(db.connections());
    }

    @AfterAll
    static void drop() {
        if (db != null) { // null when skipped: no PostgreSQL to test against
            db.drop();
        }
    }

    @Test
    void ledgerWritesBatchesCorrectsRowsAndReportsSpendOnPostgres() {
        UsageLedger ledger = new UsageLedger(
                UsageRowWriter.of(repository),
                UsageFixtures.properties(dir.resolve("spill.jsonl"), "flush-interval", "1h", "batch-size", "50"),
                null,
                dir.resolve("spill.jsonl"));
        ledger.start();
        Instant now = Instant.now();
        UsageRecord estimate = UsageFixtures.record("pg-key", "openai/gpt-5-nano", 10, 2, null, now);
        ledger.record(estimate);
        for (int i = 0; i < 120; i++) {
            ledger.record(UsageFixtures.record("pg-key", "openai/gpt-5-nano", 1, 1, "0.5", now));
        }
        ledger.correct(estimate.settled(10, 20, 1, 2, new BigDecimal("0.25")));
        ledger.stop();

        assertThat(db.count("SELECT COUNT(*) FROM usage")).isEqualTo(121);
        assertThat(repository.spendByKey(now.plusMillis(1)).collectList().block(Duration.ofSeconds(10)))
                .singleElement()
                .satisfies(spend -> assertThat(spend.spentUsd()).isEqualByComparingTo("60.25"));
        assertThat(repository.spendByKey(now.minusMillis(1)).collectList().block(Duration.ofSeconds(10)))
                .as("rows created after the cutoff belong to the process that reads")
                .isEmpty();
        List<UsageRecord> rows = repository
                .find("pg-key", "openai/gpt-5-nano", now.minusSeconds(5), now.plusSeconds(5), 1000)
                .collectList()
                .block(Duration.ofSeconds(10));
        assertThat(rows).hasSize(121);
        assertThat(rows.stream().mapToLong(UsageRecord::totalTokens).sum()).isEqualTo(240 + 30);
        assertThat(repository.recent(3).collectList().block(Duration.ofSeconds(10)))
                .hasSize(3);
        // The start's search for settlements to resume runs here too; none of these rows waits for one.
        assertThat(repository
                        .unsettled(now.minusSeconds(5), now.plusSeconds(5), List.of("openrouter"), 10)
                        .collectList()
                        .block(Duration.ofSeconds(10)))
                .isEmpty();
        // Replaying rows already stored (a spill replayed twice) adds nothing.
        repository.insert(rows.subList(0, 10)).block(Duration.ofSeconds(10));
        assertThat(db.count("SELECT COUNT(*) FROM usage")).isEqualTo(121);
    }

    /**
     * A batch larger than one statement's rows goes out in several multi-row statements: every row
     * lands whole (its own values, not a neighbour's), and a replay that mixes stored and new rows
     * writes the new ones only.
     */
    @Test
    void aBatchOfManyStatementsKeepsEachRowsOwnValuesAndAReplayAddsOnlyNewRows() {
        Instant now = Instant.now();
        int rows = 2 * UsageRepository.ROWS_PER_STATEMENT + 50;
        List<UsageRecord> batch = new java.util.ArrayList<>();
        for (int i = 0; i < rows; i++) {
            batch.add(UsageFixtures.record(
                    "entry-" + i, "req-" + i, "multi-key", "openai/gpt-5-nano", i, 2L * i, i + ".5", now));
        }
        try {
            repository.insert(batch).block(Duration.ofSeconds(20));

            List<UsageRecord> stored = repository
                    .find("multi-key", null, now.minusSeconds(5), now.plusSeconds(5), 1000)
                    .collectList()
                    .block(Duration.ofSeconds(10));
            assertThat(stored).hasSize(rows).allSatisfy(row -> {
                int i = Integer.parseInt(row.entryId().substring("entry-".length()));
                assertThat(row.requestId()).isEqualTo("req-" + i);
                assertThat(row.promptTokens()).isEqualTo(i);
                assertThat(row.completionTokens()).isEqualTo(2L * i);
                assertThat(row.costUsd()).isEqualByComparingTo(i + ".5");
            });

            UsageRecord fresh =
                    UsageFixtures.record("entry-new", "req-new", "multi-key", "openai/gpt-5-nano", 7, 7, "1", now);
            repository.insert(List.of(batch.get(0), fresh, batch.get(rows - 1))).block(Duration.ofSeconds(10));
            assertThat(db.count("SELECT COUNT(*) FROM usage WHERE key_id = 'multi-key'"))
                    .isEqualTo(rows + 1);
        } finally {
            db.execute("DELETE FROM usage WHERE key_id = 'multi-key'");
        }
    }

    /**
     * The admin API lists the newest rows by id, so ids must follow the order rows were written
     * even when several connections (or replicas) write: no per-session cache of ids on PostgreSQL.
     */
    @Test
    void rowsWrittenThroughTwoConnectionsListNewestFirst() throws SQLException {
        try (Connection a = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
                Connection b = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password())) {
            insertRow(a, "first");
            insertRow(b, "second");
            insertRow(a, "third");

            assertThat(repository
                            .recent(3)
                            .map(UsageRecord::requestId)
                            .collectList()
                            .block(Duration.ofSeconds(10)))
                    .containsExactly("third", "second", "first");
        } finally {
            db.execute("DELETE FROM usage WHERE key_id = 'order-key'");
        }
    }

    private static void insertRow(Connection connection, String requestId) throws SQLException {
        try (Statement insert = connection.createStatement()) {
            insert.execute("INSERT INTO usage (entry_id, request_id, key_id, key_name, endpoint, requested_model,"
                    + " model, provider, stream, status, outcome, prompt_tokens, completion_tokens, total_tokens,"
                    + " cached_tokens, reasoning_tokens, estimated, cost_source, latency_ms, created_at) VALUES ('"
                    + UUID.randomUUID() + "', '" + requestId + "', 'order-key', 'order', 'chat_completions',"
                    + " 'openai/gpt-5-nano', 'openai/gpt-5-nano', 'openrouter', false, 200, 'success', 1, 1, 2, 0, 0,"
                    + " false, 'none', 5, now())");
        }
    }
}
