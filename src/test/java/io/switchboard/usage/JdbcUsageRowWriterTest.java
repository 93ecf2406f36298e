package io.switchboard.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded database's ledger writer, on the H2 file database as the gateway opens it, beside the
 * R2DBC connections that read the same rows for the reports.
 */
class JdbcUsageRowWriterTest {

    @TempDir
    Path dir;

    private TestDatabases.Database db;
    private UsageRepository repository;
    private JdbcUsageRowWriter writer;

    @BeforeEach
    void open() {
        db = TestDatabases.h2File(dir);
        repository = new UsageRepository(db.connections());
        writer = new JdbcUsageRowWriter(db.jdbcUrl(), db.user(), db.password());
    }

    @AfterEach
    void close() {
        writer.close();
    }

    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.MICROS);

    private static UsageRecord record(long prompt) {
        return UsageFixtures.record("key-1", "openai/gpt-5-nano", prompt, 2, "0.00123", NOW);
    }

    /** A record with every nullable column empty and a request id longer than its column. */
    private static UsageRecord sparse() {
        return new UsageRecord(
                UsageRecord.newEntryId(),
                "r".repeat(300),
                "key-2",
                "name",
                "embeddings",
                "alias",
                "openai/text-embedding-3-small",
                null,
                "openrouter",
                null,
                null,
                false,
                502,
                UsageOutcome.UPSTREAM_ERROR,
                7,
                0,
                7,
                0,
                0,
                true,
                null,
                "none",
                12,
                null,
                null,
                NOW.minusSeconds(1));
    }

    private List<UsageRecord> stored() {
        return stored(repository);
    }

    private static List<UsageRecord> stored(UsageRepository repository) {
        return repository
                .find(null, null, NOW.minusSeconds(60), NOW.plusSeconds(60), 1000)
                .collectList()
                .block(Duration.ofSeconds(5));
    }

    @Test
    void storesEachRowExactlyAsTheR2dbcWriterDoes() throws Exception {
        UsageRecord full = record(11);
        UsageRecord sparse = sparse();
        writer.insert(List.of(full, sparse));
        UsageRepository elsewhere = new UsageRepository(TestDatabases.h2().connections());
        elsewhere.insert(List.of(full, sparse)).block(Duration.ofSeconds(5));

        List<UsageRecord> rows = stored();
        assertThat(rows).usingRecursiveFieldByFieldElementComparator().containsExactlyElementsOf(stored(elsewhere));
        UsageRecord fullRow = byEntry(rows, full.entryId());
        assertThat(fullRow)
                .usingRecursiveComparison()
                .withComparatorForType(Comparator.naturalOrder(), BigDecimal.class)
                .isEqualTo(full);
        UsageRecord sparseRow = byEntry(rows, sparse.entryId());
        assertThat(sparseRow.requestId()).isEqualTo("r".repeat(200));
        assertThat(sparseRow.servedModel()).isNull();
        assertThat(sparseRow.costUsd()).isNull();
        assertThat(sparseRow.ttftMs()).isNull();
        assertThat(sparseRow.outcome()).isEqualTo(UsageOutcome.UPSTREAM_ERROR);
        assertThat(sparseRow.createdAt()).isEqualTo(NOW.minusSeconds(1));
    }

    @Test
    void aReplayedBatchAddsOnlyTheRowsNotStoredYet() throws Exception {
        UsageRecord a = record(1);
        UsageRecord b = record(2);
        writer.insert(List.of(a, b));

        writer.insert(List.of(a, record(3), b, record(4)));

        assertThat(stored()).extracting(UsageRecord::promptTokens).containsExactlyInAnyOrder(1L, 2L, 3L, 4L);
    }

    @Test
    void aCorrectionReplacesTheNumbersOrStoresAMissingRow() throws Exception {
        UsageRecord estimated = record(5);
        writer.insert(List.of(estimated));

        writer.correct(estimated.settled(50, 60, 7, 8, new BigDecimal("0.5")));
        UsageRecord missing = record(9);
        writer.correct(missing.settled(90, 10, 0, 0, null));

        List<UsageRecord> rows = stored();
        assertThat(rows).hasSize(2);
        UsageRecord corrected = byEntry(rows, estimated.entryId());
        assertThat(corrected.promptTokens()).isEqualTo(50);
        assertThat(corrected.completionTokens()).isEqualTo(60);
        assertThat(corrected.totalTokens()).isEqualTo(110);
        assertThat(corrected.cachedTokens()).isEqualTo(7);
        assertThat(corrected.reasoningTokens()).isEqualTo(8);
        assertThat(corrected.costUsd()).isEqualByComparingTo("0.5");
        assertThat(corrected.costSource()).isEqualTo("settled");
        assertThat(byEntry(rows, missing.entryId()).totalTokens()).isEqualTo(100);
    }

    @Test
    void aFailedWriteLeavesNothingAndTheNextWriteWorksOnAFreshConnection() throws Exception {
        writer.insert(List.of(record(1)));
        db.execute("ALTER TABLE usage RENAME TO usage_away");

        assertThatThrownBy(() -> writer.insert(List.of(record(2), record(3)))).isInstanceOf(SQLException.class);
        db.execute("ALTER TABLE usage_away RENAME TO usage");
        writer.insert(List.of(record(4)));

        assertThat(stored()).extracting(UsageRecord::promptTokens).containsExactlyInAnyOrder(1L, 4L);
    }

    @Test
    void aRowTheDatabaseRefusesIsSetAsideAndTheRestOfItsBatchIsStored() throws Exception {
        // entry_id is at most 36 characters: the database refuses that row, and a retry of the same
        // batch would meet the same refusal for ever, holding back every row queued behind it.
        UsageRecord tooLong = UsageFixtures.record(
                UUID.randomUUID() + "-too-long", "req-3", "key-1", "openai/gpt-5-nano", 3, 2, "0.001", NOW);

        assertThat(writer.insert(List.of(record(1), tooLong, record(2))))
                .as("rows refused")
                .isEqualTo(1);
        writer.insert(List.of(record(5)));

        assertThat(stored()).extracting(UsageRecord::promptTokens).containsExactlyInAnyOrder(1L, 2L, 5L);
    }

    @Test
    void valuesLongerThanTheirColumnsOrHoldingNulAreStoredCut() throws Exception {
        UsageRecord odd = UsageFixtures.record(
                UUID.randomUUID().toString(),
                "req-odd",
                "static:" + "k".repeat(150),
                "model\u0000" + "m".repeat(300),
                4,
                2,
                "0.001",
                NOW);

        assertThat(writer.insert(List.of(odd))).isZero();

        UsageRecord row = stored().get(0);
        assertThat(row.keyId()).hasSize(100).startsWith("static:kkk");
        assertThat(row.model()).hasSize(200).startsWith("model\uFFFDmmm");
    }

    private static UsageRecord byEntry(List<UsageRecord> rows, String entryId) {
        return rows.stream()
                .filter(row -> row.entryId().equals(entryId))
                .findFirst()
                .orElseThrow();
    }
}
