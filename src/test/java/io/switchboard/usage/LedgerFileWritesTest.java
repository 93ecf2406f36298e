package io.switchboard.usage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In the embedded database every commit is a write of its file (WRITE_DELAY=0, so that a committed
 * row survives a kill), and that write is most of what a ledger batch costs the gateway's core. A
 * batch must commit once: the ids of its rows must not cost commits of their own (the identity's
 * sequence refilling its cache of 32 ids made three or four per batch of 100 rows).
 */
class LedgerFileWritesTest {

    private static final int BATCHES = 10;
    private static final int ROWS = 100;

    @TempDir
    Path storage;

    @Test
    void aBatchOfLedgerRowsIsOneWriteOfTheEmbeddedDatabaseFile() throws SQLException {
        TestDatabases.Database db = TestDatabases.h2File(storage);
        UsageRepository repository = new UsageRepository(db.connections());
        Instant at = Instant.parse("2026-12-03T10:00:00Z");
        // The first batch opens the table's pages; count from the second.
        repository.insert(batch(at)).block(Duration.ofSeconds(30));

        // Held open: H2 closes a database (a write of its own) when its last connection closes.
        try (Connection open = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password())) {
            long before = fileWrites(open);
            for (int i = 0; i < BATCHES; i++) {
                repository.insert(batch(at)).block(Duration.ofSeconds(30));
            }
            long writes = fileWrites(open) - before;

            assertThat(db.count("SELECT COUNT(*) FROM usage")).isEqualTo((long) (BATCHES + 1) * ROWS);
            assertThat(writes)
                    .as("writes of the database file for %d batches of %d rows", BATCHES, ROWS)
                    .isBetween((long) BATCHES, (long) BATCHES * 2);
        }
    }

    private static List<UsageRecord> batch(Instant at) {
        List<UsageRecord> records = new ArrayList<>(ROWS);
        for (int i = 0; i < ROWS; i++) {
            records.add(UsageFixtures.record("key-" + (i % 7), "openai/gpt-5-nano", 10, 20, "0.0001", at));
        }
        return records;
    }

    private static long fileWrites(Connection open) throws SQLException {
        try (ResultSet row = open.createStatement()
                .executeQuery(
                        "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'info.FILE_WRITE'")) {
            assertThat(row.next()).as("H2 reports its file writes").isTrue();
            return Long.parseLong(row.getString(1));
        }
    }
}
