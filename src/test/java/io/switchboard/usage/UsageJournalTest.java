package io.switchboard.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;

class UsageJournalTest {

    @TempDir
    Path dir;

    private final List<UsageJournal> opened = new ArrayList<>();
    private final List<UsageLedger> ledgers = new ArrayList<>();

    @AfterEach
    void close() {
        ledgers.forEach(UsageLedger::stop);
        opened.forEach(UsageJournal::close);
    }

    private Path file() {
        return dir.resolve("journal.log");
    }

    private UsageJournal journal(String... settings) {
        return journal(1000, settings);
    }

    private UsageJournal journal(int capacity, String... settings) {
        String[] all = new String[settings.length];
        for (int i = 0; i < settings.length; i += 2) {
            all[i] = "journal." + settings[i];
            all[i + 1] = settings[i + 1];
        }
        UsageProperties properties = UsageFixtures.properties(dir.resolve("spill.jsonl"), all);
        UsageJournal journal = new UsageJournal(file(), properties.journal(), capacity);
        opened.add(journal);
        return journal;
    }

    /** What a process started on the file now would find: the file as a kill would leave it. */
    private LiveEntries afterAKill() throws IOException {
        LiveEntries entries = new LiveEntries();
        UsageJournal.read(file(), entries);
        return entries;
    }

    /** Admits as the proxy does: the upstream call would start once this returns. */
    private static void admit(UsageJournal journal, JournalAdmission admission) {
        Mono<Void> wait = journal.admit(admission);
        if (wait != null) {
            wait.block(Duration.ofSeconds(5));
        }
    }

    private static JournalAdmission admission(String requestId) {
        return new JournalAdmission(
                UsageRecord.newEntryId(),
                requestId,
                "key-1",
                "team-a",
                "chat_completions",
                "nano",
                "openai/gpt-5-nano",
                "openrouter",
                true,
                25,
                Instant.parse("2026-11-01T10:00:00Z").toEpochMilli());
    }

    private static UsageRecord finished(JournalAdmission admission, long prompt, long completion) {
        return UsageFixtures.record(
                admission.entryId(),
                admission.requestId(),
                "key-1",
                "openai/gpt-5-nano",
                prompt,
                completion,
                "0.001",
                Instant.now());
    }

    /**
     * Writes a journal as a run would have left it: admissions, generation ids, ended records, and
     * commits (lists of ids).
     */
    /** A ledger writing through {@code rows}, journaled in {@link #file()}, stopped after the test. */
    private UsageLedger journaledLedger(UsageRowWriter rows, UsageProperties properties) {
        UsageLedger ledger = new UsageLedger(
                rows, properties, new UsageJournal(file(), properties.journal(), 1000), properties.spillFileUnder(dir));
        ledgers.add(ledger);
        return ledger;
    }

    private void journalLeftBehind(Object... entries) throws IOException {
        ByteArrayOutputStream lines = new ByteArrayOutputStream();
        for (Object entry : entries) {
            if (entry instanceof JournalAdmission admission) {
                JournalFormat.admitted(admission, lines);
            } else if (entry instanceof JournalGeneration generation) {
                JournalFormat.generation(generation, lines);
            } else if (entry instanceof UsageRecord record) {
                JournalFormat.finished(record, lines);
            } else if (entry instanceof List<?> ids) {
                JournalFormat.committed(ids.stream().map(String.class::cast).toList(), lines);
            }
        }
        Files.write(file(), lines.toByteArray());
    }

    @Test
    void aCutOffRequestIsReplayedAsInterruptedAndAnEndedOneWithItsTokens() throws IOException {
        JournalAdmission cut = admission("req-cut");
        JournalAdmission ended = admission("req-ended");
        JournalAdmission written = admission("req-written");
        journalLeftBehind(
                cut, ended, written, finished(ended, 11, 7), finished(written, 1, 1), List.of(written.entryId()));

        LiveEntries entries = afterAKill();

        List<UsageRecord> rows = entries.unwritten();
        assertThat(rows).extracting(UsageRecord::requestId).containsExactly("req-cut", "req-ended");
        UsageRecord interrupted = rows.get(0);
        assertThat(interrupted.entryId()).isEqualTo(cut.entryId());
        assertThat(interrupted.outcome()).isEqualTo(UsageOutcome.INTERRUPTED);
        assertThat(interrupted.status()).isZero();
        assertThat(interrupted.promptTokens()).isEqualTo(25);
        assertThat(interrupted.completionTokens()).isZero();
        assertThat(interrupted.estimated()).isTrue();
        assertThat(interrupted.keyId()).isEqualTo("key-1");
        assertThat(interrupted.createdAt()).isEqualTo(Instant.parse("2026-11-01T10:00:00Z"));
        assertThat(rows.get(1).entryId()).isEqualTo(ended.entryId());
        assertThat(rows.get(1).outcome()).isEqualTo(UsageOutcome.SUCCESS);
        assertThat(rows.get(1).completionTokens()).isEqualTo(7);
    }

    @Test
    void aCutOffRequestWhoseGenerationWasJournaledIsReplayedWithItsGenerationId() throws IOException {
        JournalAdmission cut = admission("req-cut");
        JournalAdmission ended = admission("req-ended");
        UsageRecord endedRecord = finished(ended, 11, 7);
        journalLeftBehind(
                cut,
                ended,
                new JournalGeneration(cut.entryId(), "gen-cut"),
                new JournalGeneration(ended.entryId(), "gen-from-headers"),
                endedRecord,
                // A late line for a row already forgotten changes nothing.
                new JournalGeneration("forgotten-entry", "gen-late"));

        List<UsageRecord> rows = journal().recover();

        assertThat(rows).extracting(UsageRecord::requestId).containsExactly("req-cut", "req-ended");
        UsageRecord interrupted = rows.get(0);
        assertThat(interrupted.outcome()).isEqualTo(UsageOutcome.INTERRUPTED);
        assertThat(interrupted.generationId()).isEqualTo("gen-cut");
        assertThat(interrupted.estimated()).isTrue();
        assertThat(interrupted.needsSettlement()).isTrue();
        assertThat(rows.get(1)).as("an ended record keeps its own").isEqualTo(endedRecord);
        // recover() rewrote the file with its live entries: the generation id is still there.
        assertThat(afterAKill().unwritten())
                .extracting(UsageRecord::generationId)
                .containsExactly("gen-cut", endedRecord.generationId());
    }

    @Test
    void aGenerationIdGivenWhileTheRequestIsOpenReachesTheFileWithoutAnyoneWaiting() throws IOException {
        UsageJournal journal = journal("flush-interval", "5ms");
        journal.recover();
        JournalAdmission admission = admission("req-open");
        admit(journal, admission);

        journal.generation(admission.entryId(), "gen-open");

        await().atMost(Duration.ofSeconds(5))
                .until(() -> afterAKill().unwritten().stream().anyMatch(row -> "gen-open".equals(row.generationId())));
    }

    @Test
    void aJournalWrittenBeforeGenerationLinesExistedStillReplays() throws IOException {
        // Lines exactly as the previous release wrote them: no generation lines at all.
        String entry = "0197f0c5-3a1e-7abc-8def-0123456789ab";
        String written = "0197f0c5-3a1e-7abc-8def-0123456789ac";
        Files.writeString(
                file(),
                "A {\"entryId\":\"" + entry + "\",\"requestId\":\"req-old\",\"keyId\":\"key-1\","
                        + "\"keyName\":\"team-a\",\"endpoint\":\"chat_completions\",\"requestedModel\":\"nano\","
                        + "\"model\":\"openai/gpt-5-nano\",\"provider\":\"openrouter\",\"stream\":true,"
                        + "\"promptTokenEstimate\":25,\"startEpochMillis\":1793527200000}\n"
                        + "A {\"entryId\":\"" + written + "\",\"requestId\":\"req-written\",\"keyId\":\"key-1\","
                        + "\"keyName\":\"team-a\",\"endpoint\":\"chat_completions\",\"requestedModel\":\"nano\","
                        + "\"model\":\"openai/gpt-5-nano\",\"provider\":\"openrouter\",\"stream\":false,"
                        + "\"promptTokenEstimate\":3,\"startEpochMillis\":1793527200000}\n"
                        + "C " + written + "\n");

        List<UsageRecord> rows = journal().recover();

        assertThat(rows).singleElement().satisfies(row -> {
            assertThat(row.entryId()).isEqualTo(entry);
            assertThat(row.outcome()).isEqualTo(UsageOutcome.INTERRUPTED);
            assertThat(row.promptTokens()).isEqualTo(25);
            assertThat(row.generationId()).isNull();
            assertThat(row.needsSettlement()).isFalse();
        });
    }

    @Test
    void aLineTornByAKillIsIgnoredAndAGarbledOneSkipped() throws IOException {
        JournalAdmission first = admission("req-1");
        JournalAdmission second = admission("req-2");
        ByteArrayOutputStream lines = new ByteArrayOutputStream();
        JournalFormat.admitted(first, lines);
        lines.writeBytes("F {\"entryId\":\"garbled\n".getBytes(StandardCharsets.UTF_8));
        JournalFormat.admitted(second, lines);
        byte[] whole = lines.toByteArray();
        ByteArrayOutputStream torn = new ByteArrayOutputStream();
        JournalFormat.finished(finished(first, 3, 4), torn);
        // The kill came in the middle of the last line: no newline, half its bytes.
        byte[] tail = torn.toByteArray();
        Files.write(file(), whole);
        Files.write(file(), java.util.Arrays.copyOf(tail, tail.length / 2), StandardOpenOption.APPEND);

        LiveEntries entries = new LiveEntries();
        int skipped = JournalFormat.read(file(), entries);

        assertThat(skipped).isEqualTo(1);
        assertThat(entries.unwritten())
                .extracting(UsageRecord::requestId, UsageRecord::outcome)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("req-1", UsageOutcome.INTERRUPTED),
                        org.assertj.core.groups.Tuple.tuple("req-2", UsageOutcome.INTERRUPTED));
    }

    @Test
    void anAdmissionIsInTheFileWhenAdmitReturnsWithNothingToWaitFor() throws IOException {
        UsageJournal journal = journal("flush-interval", "1h", "fsync", "never");
        assertThat(journal.recover()).isEmpty();
        JournalAdmission admission = admission("req-" + UUID.randomUUID());

        // The flush interval is an hour: the writer thread has not run; the caller appended it.
        assertThat(journal.admit(admission)).isNull();

        assertThat(afterAKill().unwritten())
                .singleElement()
                .satisfies(row -> assertThat(row.entryId()).isEqualTo(admission.entryId()));
    }

    @Test
    void withFsyncAlwaysAnAdmissionWaitsForTheWriterAndIsInTheFileWhenItsWaitEnds() throws IOException {
        UsageJournal journal = journal("flush-interval", "1h", "fsync", "always");
        journal.recover();
        JournalAdmission admission = admission("req-" + UUID.randomUUID());

        Mono<Void> wait = journal.admit(admission);

        assertThat(wait).isNotNull();
        wait.block(Duration.ofSeconds(5));
        assertThat(afterAKill().unwritten())
                .singleElement()
                .satisfies(row -> assertThat(row.entryId()).isEqualTo(admission.entryId()));
    }

    @Test
    void admissionsFromManyThreadsAreKeptWhileTheFileIsReplacedUnderThem() throws Exception {
        // A queue as large as the default ledger queue: four threads in a tight loop outrun any writer.
        UsageJournal journal =
                journal(100_000, "flush-interval", "1ms", "commit-delay", "0s", "max-size", "64KB", "fsync", "never");
        journal.recover();
        java.util.concurrent.atomic.AtomicInteger replacements = new java.util.concurrent.atomic.AtomicInteger();
        journal.beforeReplacementTakesAppends(replacements::incrementAndGet);
        int threads = 4;
        int perThread = 3000;
        List<String> open = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        JournalAdmission admission = admission("req-" + thread + "-" + i);
                        admit(journal, admission);
                        if (i % 10 == 0) {
                            open.add(admission.entryId());
                        } else {
                            UsageRecord record = finished(admission, 1, 1);
                            journal.finished(record);
                            journal.committed(List.of(record));
                        }
                    }
                }));
            }
            for (java.util.concurrent.Future<?> each : done) {
                each.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }

        // Megabytes of lines through a 64 KB journal: it was replaced dozens of times meanwhile.
        assertThat(replacements.get())
                .as("replacements of the file while admitting")
                .isGreaterThanOrEqualTo(10);
        // Every request still open is in the file (once), and nothing else once the commits are in.
        await().atMost(Duration.ofSeconds(10)).until(() -> afterAKill().size() == open.size());
        assertThat(afterAKill().unwritten()).extracting(UsageRecord::entryId).containsExactlyInAnyOrderElementsOf(open);
        assertThat(afterAKill().unwritten())
                .allSatisfy(row -> assertThat(row.outcome()).isEqualTo(UsageOutcome.INTERRUPTED));
    }

    @Test
    void anAdmissionAppendedToTheOldFileWhileItIsBeingReplacedIsInTheNewOne() throws Exception {
        UsageJournal journal =
                journal(20_000, "flush-interval", "1ms", "commit-delay", "0s", "max-size", "64KB", "fsync", "never");
        journal.recover();
        JournalAdmission late = admission("req-late");
        java.util.concurrent.CompletableFuture<Boolean> appendedByItsOwnThread =
                new java.util.concurrent.CompletableFuture<>();
        // An event loop admits a request after the writer copied the live entries into the new file
        // and before the new file takes appends: the admission goes to the old file, which the new
        // one then replaces.
        journal.beforeReplacementTakesAppends(() -> {
            if (!appendedByItsOwnThread.isDone()) {
                Thread eventLoop = new Thread(() -> appendedByItsOwnThread.complete(journal.admit(late) == null));
                eventLoop.start();
                try {
                    eventLoop.join(5000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        // Paced so that the file is replaced for having grown, with room left in it: a full file
        // would send the late admission to the writer instead.
        for (int i = 0; !appendedByItsOwnThread.isDone() && i < 20_000; i++) {
            JournalAdmission admission = admission("req-" + i);
            admit(journal, admission);
            UsageRecord record = finished(admission, 1, 1);
            journal.finished(record);
            journal.committed(List.of(record));
            java.util.concurrent.locks.LockSupport.parkNanos(100_000);
        }
        assertThat(appendedByItsOwnThread.get(10, java.util.concurrent.TimeUnit.SECONDS))
                .as("appended to the old file by its own thread")
                .isTrue();
        journal.close();

        assertThat(afterAKill().unwritten())
                .extracting(UsageRecord::requestId, UsageRecord::outcome)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("req-late", UsageOutcome.INTERRUPTED));
    }

    @Test
    void aKillWhileTheFileWasBeingReplacedLeavesTwoFilesThatReplayAsOne() throws IOException {
        JournalAdmission older = admission("req-older");
        JournalAdmission newer = admission("req-newer");
        JournalAdmission ended = admission("req-ended");
        journalLeftBehind(older, ended, finished(ended, 4, 5));
        // The replacement had taken a new admission and begun copying the live entries.
        ByteArrayOutputStream next = new ByteArrayOutputStream();
        JournalFormat.admitted(newer, next);
        JournalFormat.admitted(older, next);
        next.writeBytes(new byte[8192]);
        Path nextFile = dir.resolve("journal.log.next");
        Files.write(nextFile, next.toByteArray());

        List<UsageRecord> rows = journal().recover();

        assertThat(rows)
                .extracting(UsageRecord::requestId, UsageRecord::outcome)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("req-older", UsageOutcome.INTERRUPTED),
                        org.assertj.core.groups.Tuple.tuple("req-ended", UsageOutcome.SUCCESS),
                        org.assertj.core.groups.Tuple.tuple("req-newer", UsageOutcome.INTERRUPTED));
        assertThat(nextFile).doesNotExist();
        assertThat(afterAKill().size()).isEqualTo(3);
    }

    /**
     * A second kill while a start rewrites the journal a first kill left in two files: what only the
     * replacement held is still read by the start after it. The rewrite truncated the replacement's
     * file before it held anything, and those requests had no row at all.
     */
    @Test
    void aKillWhileAStartRewritesTheJournalLosesNothingOnlyTheReplacementHeld() throws IOException {
        JournalAdmission older = admission("req-older");
        JournalAdmission newer = admission("req-newer");
        journalLeftBehind(older);
        ByteArrayOutputStream next = new ByteArrayOutputStream();
        JournalFormat.admitted(newer, next);
        Files.write(dir.resolve("journal.log.next"), next.toByteArray());

        UsageJournal killed = journal();
        killed.afterReplacementCreated(() -> {
            throw new IllegalStateException("killed while rewriting");
        });
        org.assertj.core.api.Assertions.assertThatThrownBy(killed::recover).hasMessageContaining("killed");

        assertThat(journal().recover())
                .extracting(UsageRecord::requestId, UsageRecord::outcome)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("req-older", UsageOutcome.INTERRUPTED),
                        org.assertj.core.groups.Tuple.tuple("req-newer", UsageOutcome.INTERRUPTED));
        assertThat(dir.resolve("journal.log.recovering")).doesNotExist();
    }

    @Test
    void aLineCutShortByAKillBeforeTheZeroBytesItReservedIsSkippedAndTheLinesAfterItAreRead() throws IOException {
        JournalAdmission first = admission("req-1");
        JournalAdmission second = admission("req-2");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        JournalFormat.admitted(first, bytes);
        ByteArrayOutputStream cut = new ByteArrayOutputStream();
        JournalFormat.admitted(admission("req-cut"), cut);
        bytes.write(cut.toByteArray(), 0, cut.size() / 2);
        bytes.writeBytes(new byte[cut.size() - cut.size() / 2]);
        JournalFormat.admitted(second, bytes);
        bytes.writeBytes(new byte[4096]);
        Files.write(file(), bytes.toByteArray());

        LiveEntries entries = new LiveEntries();
        int skipped = UsageJournal.read(file(), entries);

        assertThat(skipped).isEqualTo(1);
        assertThat(entries.unwritten()).extracting(UsageRecord::requestId).containsExactly("req-1", "req-2");
    }

    @Test
    void aWrittenRowIsForgottenOnlyAfterTheCommitDelay() throws IOException {
        UsageJournal journal = journal("flush-interval", "5ms", "commit-delay", "300ms");
        journal.recover();
        JournalAdmission admission = admission("req-1");
        admit(journal, admission);
        UsageRecord record = finished(admission, 2, 3);
        journal.finished(record);
        long committedAt = System.nanoTime();
        journal.committed(List.of(record));

        await().atMost(Duration.ofSeconds(5)).until(() -> afterAKill().size() == 0);
        assertThat(Duration.ofNanos(System.nanoTime() - committedAt)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    }

    @Test
    void theFileIsRewrittenWithItsLiveEntriesOncePastItsMaximumSize() throws IOException {
        UsageJournal journal = journal(20_000, "flush-interval", "1ms", "commit-delay", "0s", "max-size", "64KB");
        journal.recover();
        JournalAdmission open = admission("req-still-open");
        admit(journal, open);
        for (int i = 0; i < 2000; i++) {
            JournalAdmission admission = admission("req-" + i);
            admit(journal, admission);
            UsageRecord record = finished(admission, 1, 1);
            journal.finished(record);
            journal.committed(List.of(record));
        }
        journal.close();

        assertThat(Files.size(file())).isLessThan(3 * 64 * 1024);
        assertThat(afterAKill().unwritten()).extracting(UsageRecord::requestId).containsExactly("req-still-open");
    }

    @Test
    void aSecondGatewayCannotTakeTheSameJournal() throws IOException {
        journal().recover();
        UsageJournal second = journal();

        org.assertj.core.api.Assertions.assertThatThrownBy(second::recover).isInstanceOf(IOException.class);
        assertThat(second.admit(admission("req-1"))).isNull();
    }

    @Test
    void theLedgerWritesWhatTheLastRunLeftOnceEvenIfSomeRowsWereAlreadyStored() throws IOException {
        TestDatabases.Database db = TestDatabases.h2();
        UsageRepository repository = new UsageRepository(db.connections());
        JournalAdmission stored = admission("req-stored");
        JournalAdmission ended = admission("req-ended");
        JournalAdmission cut = admission("req-cut");
        // The crash came after the database had one row but before the journal heard of it.
        repository.insert(List.of(finished(stored, 5, 5))).block(Duration.ofSeconds(5));
        journalLeftBehind(stored, ended, cut, finished(stored, 5, 5), finished(ended, 11, 7));

        UsageProperties properties = UsageFixtures.properties(
                dir.resolve("spill.jsonl"), "flush-interval", "20ms", "journal.commit-delay", "0s");
        UsageLedger ledger = journaledLedger(UsageRowWriter.of(repository), properties);
        List<UsageRecord> toldOf = new ArrayList<>();
        ledger.onRecovered(toldOf::add);
        ledger.start();

        // Written before start() returned: before the web server takes traffic.
        assertThat(db.count("SELECT COUNT(*) FROM usage")).isEqualTo(3);
        assertThat(db.count("SELECT COUNT(DISTINCT entry_id) FROM usage")).isEqualTo(3);
        assertThat(db.count("SELECT COUNT(*) FROM usage WHERE outcome = 'interrupted' AND request_id = 'req-cut'"))
                .isEqualTo(1);
        assertThat(db.count("SELECT SUM(completion_tokens) FROM usage")).isEqualTo(12);
        // Settlement hears of every recovered row (it corrects those with an estimate and a generation id).
        assertThat(toldOf).extracting(UsageRecord::requestId).containsExactly("req-stored", "req-ended", "req-cut");
        await().atMost(Duration.ofSeconds(5)).until(() -> afterAKill().size() == 0);
    }

    @Test
    void aRecordSpilledBeforeTheKillWinsOverTheJournalsCutOffAdmission() throws IOException {
        // The database was down: the finished record went to the spill file (forced to disk), and the
        // process was killed before the journal's next group noted that the request had finished.
        TestDatabases.Database db = TestDatabases.h2();
        JournalAdmission spilled = admission("req-spilled");
        JournalAdmission cut = admission("req-cut");
        journalLeftBehind(spilled, cut);
        Path spillPath = dir.resolve("spill.jsonl");
        new SpillFile(spillPath).append(List.of(new LedgerEntry(finished(spilled, 11, 7), false)));

        UsageProperties properties =
                UsageFixtures.properties(spillPath, "flush-interval", "20ms", "journal.commit-delay", "0s");
        UsageLedger ledger = journaledLedger(UsageRowWriter.of(new UsageRepository(db.connections())), properties);
        ledger.start();

        await().atMost(Duration.ofSeconds(10)).until(() -> db.count("SELECT COUNT(*) FROM usage") == 2);
        assertThat(db.count("SELECT COUNT(*) FROM usage WHERE request_id = 'req-spilled' AND outcome = 'success'"
                        + " AND completion_tokens = 7"))
                .isEqualTo(1);
        assertThat(db.count("SELECT COUNT(*) FROM usage WHERE request_id = 'req-cut' AND outcome = 'interrupted'"))
                .isEqualTo(1);
    }

    @Test
    void aSlowDatabaseDelaysTheStartAFewSecondsAtMostAndTheLastRunsRowsFollowOnceItAnswers() throws Exception {
        TestDatabases.Database db = TestDatabases.h2();
        JournalAdmission ended = admission("req-ended");
        JournalAdmission cut = admission("req-cut");
        journalLeftBehind(ended, cut, finished(ended, 11, 7));
        CountDownLatch databaseAnswers = new CountDownLatch(1);
        UsageRowWriter slow = UsageFixtures.beforeEachInsert(
                UsageRowWriter.of(new UsageRepository(db.connections())),
                () -> databaseAnswers.await(60, TimeUnit.SECONDS));
        UsageProperties properties = UsageFixtures.properties(
                dir.resolve("spill.jsonl"), "flush-interval", "1h", "journal.commit-delay", "0s");
        UsageLedger ledger = journaledLedger(slow, properties);

        // The start waits for the database a few seconds, not for as long as it takes: it returns
        // while every insert is still held (for up to 60 s, past this 30 s wait).
        java.util.concurrent.CompletableFuture<Void> started =
                java.util.concurrent.CompletableFuture.runAsync(ledger::start);
        started.get(30, TimeUnit.SECONDS);
        assertThat(ledger.earlierRunsWritten()).isFalse();
        assertThat(db.count("SELECT COUNT(*) FROM usage")).isZero();

        databaseAnswers.countDown();
        // Written by the writer without waiting for a full batch or the hour-long flush interval.
        await().atMost(Duration.ofSeconds(10)).until(ledger::earlierRunsWritten);
        assertThat(db.count("SELECT COUNT(*) FROM usage")).isEqualTo(2);
        assertThat(db.count("SELECT SUM(completion_tokens) FROM usage")).isEqualTo(7);
        assertThat(db.count("SELECT COUNT(*) FROM usage WHERE outcome = 'interrupted'"))
                .isEqualTo(1);
        await().atMost(Duration.ofSeconds(5)).until(() -> afterAKill().size() == 0);
    }

    @Test
    void aJournalLargerThanTheSpillThresholdGoesThroughTheSpillFileWithoutFillingTheQueue() throws IOException {
        TestDatabases.Database db = TestDatabases.h2();
        List<Object> left = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            JournalAdmission admission = admission("req-" + i);
            left.add(admission);
            left.add(finished(admission, 1, 2));
        }
        journalLeftBehind(left.toArray());
        UsageProperties properties = UsageFixtures.properties(
                dir.resolve("spill.jsonl"),
                "queue-capacity",
                "20",
                "spill-threshold",
                "10",
                "batch-size",
                "5",
                "flush-interval",
                "1h",
                "journal.commit-delay",
                "0s");
        UsageLedger ledger = journaledLedger(UsageRowWriter.of(new UsageRepository(db.connections())), properties);

        ledger.start();

        // A healthy database has them all before start() returns; none was refused by the queue.
        assertThat(ledger.earlierRunsWritten()).isTrue();
        assertThat(db.count("SELECT COUNT(*) FROM usage")).isEqualTo(30);
        assertThat(db.count("SELECT SUM(completion_tokens) FROM usage")).isEqualTo(60);
        assertThat(ledger.lost()).isZero();
        assertThat(ledger.spilled()).isEqualTo(30);
    }
}
