package io.switchboard.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsageLedgerTest {

    @TempDir
    Path dir;

    final TestDatabases.Database db = TestDatabases.h2();
    private final UsageRepository repository = new UsageRepository(db.connections());
    private final List<UsageLedger> started = new ArrayList<>();

    @AfterEach
    void stopLedgers() {
        started.forEach(UsageLedger::stop);
    }

    /** How the ledger writes its rows: R2DBC here, JDBC in {@link UsageLedgerJdbcTest}. */
    UsageRowWriter rowWriter() {
        return UsageRowWriter.of(repository);
    }

    private UsageLedger ledger(String... settings) {
        UsageLedger ledger = new UsageLedger(
                rowWriter(),
                UsageFixtures.properties(dir.resolve("spill.jsonl"), settings),
                null,
                dir.resolve("spill.jsonl"));
        started.add(ledger);
        return ledger;
    }

    private static UsageRecord record(long prompt, long completion) {
        return UsageFixtures.record("key-1", "openai/gpt-5-nano", prompt, completion, "0.001", Instant.now());
    }

    private long rows() {
        return db.count("SELECT COUNT(*) FROM usage");
    }

    @Test
    void gracefulStopWritesEveryQueuedRecord() {
        UsageLedger ledger = ledger("flush-interval", "1h", "batch-size", "100");
        ledger.start();
        for (int i = 0; i < 1234; i++) {
            assertThat(ledger.record(record(1, 2))).isTrue();
        }
        ledger.stop();
        assertThat(rows()).isEqualTo(1234);
        assertThat(db.count("SELECT SUM(completion_tokens) FROM usage")).isEqualTo(2468);
        assertThat(ledger.depth()).isZero();
        assertThat(ledger.lost()).isZero();
    }

    @Test
    void aPartialBatchIsWrittenWithinTheFlushInterval() {
        UsageLedger ledger = ledger("flush-interval", "100ms", "batch-size", "500");
        ledger.start();
        ledger.record(record(5, 6));
        await().atMost(Duration.ofSeconds(5)).until(() -> rows() == 1);
        assertThat(ledger.depth()).isZero();
    }

    @Test
    void recordsSurviveADatabaseOutageThroughTheSpillFileAndAreReplayedOnce() throws Exception {
        UsageLedger ledger = ledger(
                "flush-interval",
                "20ms",
                "batch-size",
                "5",
                "spill-threshold",
                "10",
                "retry-backoff",
                "20ms",
                "retry-backoff-max",
                "100ms");
        db.execute("ALTER TABLE usage RENAME TO usage_away");
        ledger.start();
        for (int i = 0; i < 60; i++) {
            ledger.record(record(1, 1));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> ledger.spilled() > 0);
        assertThat(ledger.failing()).isTrue();
        assertThat(new SpillFile(dir.resolve("spill.jsonl")).hasEntries()).isTrue();

        db.execute("ALTER TABLE usage_away RENAME TO usage");
        await().atMost(Duration.ofSeconds(10)).until(() -> rows() == 60 && !ledger.failing());
        await().atMost(Duration.ofSeconds(5))
                .until(() ->
                        !Files.exists(dir.resolve("spill.jsonl")) && !Files.exists(dir.resolve("spill.jsonl.replay")));
        assertThat(db.count("SELECT COUNT(DISTINCT entry_id) FROM usage")).isEqualTo(60);
        assertThat(ledger.lost()).isZero();
    }

    /** A run that records {@code count} rows of 2 + 3 tokens and stops with the usage table gone (left renamed). */
    private UsageLedger runStoppedWhileTheDatabaseIsDown(int count) {
        db.execute("ALTER TABLE usage RENAME TO usage_away");
        UsageLedger run = ledger("flush-interval", "1h", "retry-backoff", "10ms");
        run.start();
        for (int i = 0; i < count; i++) {
            run.record(record(2, 3));
        }
        run.stop();
        return run;
    }

    @Test
    void stoppingWhileTheDatabaseIsDownSpillsAndTheNextStartReplays() {
        UsageLedger first = runStoppedWhileTheDatabaseIsDown(25);
        assertThat(first.spilled()).isEqualTo(25);
        assertThat(first.lost()).isZero();

        db.execute("ALTER TABLE usage_away RENAME TO usage");
        UsageLedger second = ledger("flush-interval", "20ms");
        second.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> rows() == 25);
        assertThat(db.count("SELECT SUM(total_tokens) FROM usage")).isEqualTo(125);
    }

    @Test
    void rowsLeftByAnEarlierRunCountAsWrittenOnlyOnceTheDatabaseHasThem() {
        UsageLedger fresh = ledger("flush-interval", "20ms");
        fresh.start();
        assertThat(fresh.earlierRunsWritten()).isTrue();
        fresh.stop();

        runStoppedWhileTheDatabaseIsDown(10);
        UsageLedger second = ledger("flush-interval", "20ms", "retry-backoff", "20ms", "retry-backoff-max", "100ms");
        second.start();
        second.record(record(1, 1));
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2)).until(() -> !second.earlierRunsWritten());

        db.execute("ALTER TABLE usage_away RENAME TO usage");
        await().atMost(Duration.ofSeconds(10)).until(second::earlierRunsWritten);
        assertThat(db.count("SELECT COUNT(*) FROM usage WHERE total_tokens = 5"))
                .isEqualTo(10);
    }

    @Test
    void rowsLeftByAnEarlierRunCountAsWrittenWhileThisRunsBacklogIsStillQueued() throws Exception {
        // The writer waits for the backlog to be queued before its first insert, and after the
        // earlier run's 20 rows (two batches of 10) until the test has looked: whatever the threads'
        // pace, the earlier rows are written while the whole backlog is still queued.
        CountDownLatch backlogQueued = new CountDownLatch(1);
        CountDownLatch looked = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger inserts = new java.util.concurrent.atomic.AtomicInteger();
        UsageRowWriter held = UsageFixtures.beforeEachInsert(rowWriter(), () -> {
            int insert = inserts.incrementAndGet();
            CountDownLatch gate = insert == 1 ? backlogQueued : insert > 2 ? looked : null;
            if (gate != null && !gate.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never opened the gate of insert " + insert);
            }
        });
        // A backlog the writer takes from the queue, not from the spill file (it stays below spill-threshold).
        UsageLedger ledger = new UsageLedger(
                held,
                UsageFixtures.properties(
                        dir.resolve("spill.jsonl"),
                        "flush-interval",
                        "1h",
                        "batch-size",
                        "10",
                        "queue-capacity",
                        "10000",
                        "spill-threshold",
                        "10000"),
                null,
                dir.resolve("spill.jsonl"));
        started.add(ledger);
        try {
            for (int i = 0; i < 20; i++) {
                ledger.record(record(1, 1));
            }
            ledger.start();
            for (int i = 0; i < 5000; i++) {
                ledger.record(record(2, 2));
            }
            backlogQueued.countDown();

            // Budgets answer 503 until this turns true: it must not wait for the whole backlog to drain.
            await().atMost(Duration.ofSeconds(10)).until(ledger::earlierRunsWritten);
            assertThat(rows()).as("rows in the database").isEqualTo(20);
            assertThat(ledger.depth()).as("backlog still queued").isGreaterThanOrEqualTo(5000 - 10);
        } finally {
            backlogQueued.countDown();
            looked.countDown();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> rows() == 5020);
    }

    /** Starts the ledger, queues one record, announces a second and begins the stop. */
    private CountDownLatch stopWithOneRecordStillExpected(UsageLedger ledger) {
        ledger.start();
        ledger.record(record(1, 2));
        ledger.expectRecord();
        CountDownLatch stopped = new CountDownLatch(1);
        ledger.stop(stopped::countDown);
        return stopped;
    }

    @Test
    void aStoppingLedgerWaitsForTheRecordOfARequestStillFinishing() throws Exception {
        UsageLedger ledger = ledger("flush-interval", "1h");
        CountDownLatch stopped = stopWithOneRecordStillExpected(ledger);
        // As after the web server's graceful shutdown: the last response is flushed, its record not yet queued.
        assertThat(stopped.await(200, TimeUnit.MILLISECONDS)).isFalse();
        ledger.recordExpected(record(3, 4));
        assertThat(stopped.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(rows()).isEqualTo(2);
        assertThat(db.count("SELECT SUM(completion_tokens) FROM usage")).isEqualTo(6);
    }

    @Test
    void aRecordThatNeverComesDelaysTheStopOnlyBriefly() throws Exception {
        UsageLedger ledger = ledger("flush-interval", "1h");
        CountDownLatch stopped = stopWithOneRecordStillExpected(ledger);
        assertThat(stopped.await(15, TimeUnit.SECONDS)).isTrue();
        assertThat(rows()).isEqualTo(1);
    }

    @Test
    void aDatabaseTooSlowForTheTrafficSendsTheBacklogToTheSpillFileInsteadOfLosingIt() throws Exception {
        // Every write takes 600 ms while records arrive one per 2 ms: during one write 300 arrive, more
        // than the queue holds. The database never fails, it is only slow.
        AtomicBoolean slow = new AtomicBoolean(true);
        UsageLedger ledger = new UsageLedger(
                slowWhile(slow, 600),
                UsageFixtures.properties(
                        dir.resolve("spill.jsonl"),
                        "queue-capacity",
                        "200",
                        "spill-threshold",
                        "20",
                        "batch-size",
                        "5",
                        "flush-interval",
                        "20ms"),
                null,
                dir.resolve("spill.jsonl"));
        started.add(ledger);
        ledger.start();
        for (int i = 0; i < 400; i++) {
            assertThat(ledger.record(record(1, 1))).as("record %d queued", i).isTrue();
            Thread.sleep(2);
        }
        assertThat(ledger.spilled()).isPositive();
        assertThat(ledger.failing()).isFalse();

        slow.set(false);
        await().atMost(Duration.ofSeconds(20)).until(() -> rows() == 400);
        assertThat(db.count("SELECT COUNT(DISTINCT entry_id) FROM usage")).isEqualTo(400);
        assertThat(ledger.lost()).isZero();
    }

    @Test
    void aStopWhileTheDatabaseIsSlowSpillsTheQueueInsteadOfWaitingForEveryBatch() {
        AtomicBoolean slow = new AtomicBoolean(true);
        AtomicBoolean stopping = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger insertsAfterTheStop = new java.util.concurrent.atomic.AtomicInteger();
        UsageLedger first = new UsageLedger(
                UsageFixtures.beforeEachInsert(slowWhile(slow, 2000), () -> {
                    if (stopping.get()) {
                        insertsAfterTheStop.incrementAndGet();
                    }
                }),
                UsageFixtures.properties(dir.resolve("spill.jsonl"), "flush-interval", "1h", "batch-size", "10"),
                null,
                dir.resolve("spill.jsonl"));
        started.add(first);
        first.start();
        for (int i = 0; i < 1000; i++) {
            first.record(record(2, 3));
        }
        // A hundred batches of 2 s each would be 200 s, far past a graceful shutdown's 30 s: the stop
        // lets the batch under way finish (and at most one begun as it came), then spills the rest.
        stopping.set(true);
        first.stop();
        assertThat(insertsAfterTheStop.get()).as("batches begun after the stop").isLessThanOrEqualTo(1);
        assertThat(first.written()).as("rows written: the batch under way").isGreaterThanOrEqualTo(10);
        assertThat(first.spilled()).as("rows spilled").isEqualTo(1000 - first.written());
        assertThat(first.lost()).isZero();

        slow.set(false);
        UsageLedger second = ledger("flush-interval", "20ms");
        second.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> rows() == 1000);
        assertThat(db.count("SELECT SUM(total_tokens) FROM usage")).isEqualTo(5000);
    }

    /** This test's row writer, each insert taking {@code millis} longer while {@code slow} is set. */
    private UsageRowWriter slowWhile(AtomicBoolean slow, long millis) {
        return UsageFixtures.beforeEachInsert(rowWriter(), () -> {
            if (slow.get()) {
                Thread.sleep(millis);
            }
        });
    }

    @Test
    void aFullQueueCountsWhatItLoses() {
        UsageLedger ledger = ledger("queue-capacity", "5");
        for (int i = 0; i < 8; i++) {
            ledger.record(record(1, 1));
        }
        assertThat(ledger.depth()).isEqualTo(5);
        assertThat(ledger.lost()).isEqualTo(3);
    }

    @Test
    void aCorrectionReplacesTheEstimateOfItsRowEvenInTheSameBatch() {
        UsageLedger ledger = ledger("flush-interval", "1h");
        ledger.start();
        UsageRecord estimate = record(12, 3);
        ledger.record(estimate);
        ledger.correct(estimate.settled(15, 40, 2, 1, new BigDecimal("0.0042")));
        UsageRecord neverInserted = record(1, 1);
        ledger.correct(neverInserted.settled(7, 8, 0, 0, null));
        ledger.stop();

        List<UsageRecord> stored = repository
                .find(
                        null,
                        null,
                        Instant.now().minus(1, ChronoUnit.HOURS),
                        Instant.now().plusSeconds(60),
                        100)
                .collectList()
                .block(Duration.ofSeconds(5));
        assertThat(stored).hasSize(2);
        UsageRecord corrected = stored.stream()
                .filter(r -> r.entryId().equals(estimate.entryId()))
                .findFirst()
                .orElseThrow();
        assertThat(corrected.completionTokens()).isEqualTo(40);
        assertThat(corrected.totalTokens()).isEqualTo(55);
        assertThat(corrected.costUsd()).isEqualByComparingTo("0.0042");
        assertThat(corrected.costSource()).isEqualTo("settled");
        assertThat(corrected.estimated()).isFalse();
    }

    @Test
    void anEntrySpilledAfterATornLineIsNotLostWithIt() throws Exception {
        Path spill = dir.resolve("spill.jsonl");
        // A kill in the middle of a spill: the file ends in half an entry.
        Files.writeString(spill, "{\"record\":{\"entryId\":\"0190");
        UsageRecord next = record(5, 5);
        new SpillFile(spill).append(List.of(new LedgerEntry(next, false)));
        List<LedgerEntry> replayed = new ArrayList<>();
        assertThat(new SpillFile(spill).replay(10, replayed::addAll)).isEqualTo(1);
        assertThat(replayed).extracting(entry -> entry.record().entryId()).containsExactly(next.entryId());
    }

    @Test
    void replayingRowsThatAreAlreadyStoredAddsNoDuplicate() throws Exception {
        UsageRecord stored = record(1, 1);
        repository.insert(List.of(stored)).block(Duration.ofSeconds(5));
        new SpillFile(dir.resolve("spill.jsonl"))
                .append(List.of(new LedgerEntry(stored, false), new LedgerEntry(record(3, 3), false)));
        UsageLedger ledger = ledger("flush-interval", "20ms");
        ledger.start();
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        !Files.exists(dir.resolve("spill.jsonl.replay")) && !Files.exists(dir.resolve("spill.jsonl")));
        assertThat(rows()).isEqualTo(2);
    }
}
