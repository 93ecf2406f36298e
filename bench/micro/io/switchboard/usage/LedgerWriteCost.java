package io.switchboard.usage;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import io.switchboard.storage.DatabaseLocation;
import io.switchboard.storage.SchemaMigrations;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What the usage ledger's writes cost the embedded database's process: CPU microseconds (all threads:
 * the driver's, the collector's) and wall time per row, in batches of 100 rows as the ledger writes
 * them, through the R2DBC writer (r2dbc-h2 behind a connection pool, as the gateway had it) and the
 * JDBC writer, each on a fresh H2 file database opened as the gateway opens it, in alternating rounds.
 * Run by bench/ledger_cost.sh. About a minute.
 */
public final class LedgerWriteCost {

    private static final int BATCH = 100;
    private static final int BATCHES_PER_ROUND = 300;
    private static final int ROUNDS = 11;
    private static final int WARM_ROUNDS = 3;

    public static void main(String[] args) throws Exception {
        Path root = Files.createTempDirectory("switchboard-ledger-cost");
        DatabaseLocation r2dbcDb = migrated(root.resolve("r2dbc"));
        DatabaseLocation jdbcDb = migrated(root.resolve("jdbc"));
        ConnectionPool pool = new ConnectionPool(ConnectionPoolConfiguration.builder(
                        ConnectionFactories.get(r2dbcDb.r2dbc()))
                .build());
        UsageRowWriter r2dbc = UsageRowWriter.of(new UsageRepository(pool));
        UsageRowWriter jdbc = new JdbcUsageRowWriter(jdbcDb.jdbcUrl(), jdbcDb.username(), jdbcDb.password());
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        double[][] cpu = new double[2][ROUNDS];
        double[][] wall = new double[2][ROUNDS];
        UsageRowWriter[] writers = {r2dbc, jdbc};
        for (int round = 0; round < ROUNDS; round++) {
            for (int w = 0; w < writers.length; w++) {
                List<List<UsageRecord>> batches = batches();
                System.gc();
                long c0 = os.getProcessCpuTime();
                long t0 = System.nanoTime();
                for (List<UsageRecord> batch : batches) {
                    writers[w].insert(batch);
                }
                double rows = (double) BATCH * BATCHES_PER_ROUND;
                cpu[w][round] = (os.getProcessCpuTime() - c0) / 1000.0 / rows;
                wall[w][round] = (System.nanoTime() - t0) / 1000.0 / rows;
            }
        }
        String[] names = {"R2DBC (r2dbc-h2, pooled)", "JDBC (one connection, prepared statements)"};
        double[] medians = new double[2];
        for (int w = 0; w < writers.length; w++) {
            medians[w] = median(cpu[w]);
            System.out.printf(
                    Locale.ROOT,
                    "%s: %.1f us CPU per row (median of %d rounds of %d rows; fastest %.1f), %.1f us wall per row%n",
                    names[w],
                    medians[w],
                    ROUNDS - WARM_ROUNDS,
                    BATCH * BATCHES_PER_ROUND,
                    fastest(cpu[w]),
                    median(wall[w]));
        }
        System.out.printf(Locale.ROOT, "JDBC / R2DBC, CPU per row: %.2f%n", medians[1] / medians[0]);
        jdbc.close();
        pool.dispose();
    }

    private static DatabaseLocation migrated(Path storage) {
        DatabaseLocation location = DatabaseLocation.resolve(null, null, null, storage);
        SchemaMigrations.configure(location.jdbcUrl(), location.username(), location.password())
                .load()
                .migrate();
        return location;
    }

    /** Rows as the bench's requests leave them: a streamed chat completion with OpenRouter's usage. */
    private static List<List<UsageRecord>> batches() {
        List<List<UsageRecord>> batches = new ArrayList<>(BATCHES_PER_ROUND);
        for (int b = 0; b < BATCHES_PER_ROUND; b++) {
            List<UsageRecord> batch = new ArrayList<>(BATCH);
            for (int i = 0; i < BATCH; i++) {
                batch.add(new UsageRecord(
                        UsageRecord.newEntryId(),
                        "req-" + UsageRecord.newEntryId(),
                        "k_3f9a2c71d0",
                        "bench",
                        "chat_completions",
                        "gpt-4o-mini",
                        "openai/gpt-5-nano",
                        "openai/gpt-5-nano-2025-08-07",
                        "openrouter",
                        "OpenAI",
                        "gen-1764900000-" + UsageRecord.newEntryId(),
                        true,
                        200,
                        UsageOutcome.SUCCESS,
                        12,
                        64,
                        76,
                        0,
                        0,
                        false,
                        new BigDecimal("0.0000312"),
                        "upstream",
                        3,
                        1L,
                        2L,
                        Instant.now()));
            }
            batches.add(batch);
        }
        return batches;
    }

    private static double median(double[] rounds) {
        double[] warm = Arrays.copyOfRange(rounds, WARM_ROUNDS, rounds.length);
        Arrays.sort(warm);
        return warm[warm.length / 2];
    }

    private static double fastest(double[] rounds) {
        double[] warm = Arrays.copyOfRange(rounds, WARM_ROUNDS, rounds.length);
        Arrays.sort(warm);
        return warm[0];
    }
}
