package io.switchboard.usage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * The usage ledger's queue and its writer. The request path only adds to a bounded lock-free queue
 * (never a database call, never a lock); one writer thread drains it in batches, when a batch is
 * full or {@code flush-interval} has passed, so the database sees one statement per batch, not one
 * per request.
 *
 * <p>When the database fails the writer keeps its batch and retries with a doubling backoff; while
 * it fails and the queue grows past {@code spill-threshold}, the writer moves records to the local
 * spill file instead of dropping them, and replays that file once the database takes writes again.
 * The database's calls run on a thread of their own, so that the writer can watch the queue while a
 * write is under way: when the database takes rows more slowly than they come (slow, not failing) and
 * the queue passes {@code spill-threshold}, the writer moves it to the spill file as well. A record is
 * lost only when the queue is full ({@code queue-capacity}, the writer being unable to keep up even
 * with spilling) or the disk refuses the spill; both are counted.
 *
 * <p>It stops after the web server (a late phase: lower than the graceful-shutdown phase), so the
 * records of streams that finish during graceful shutdown are in the queue; stopping drains the
 * queue to the database, or to the spill file if the database is down.
 */
public final class UsageLedger implements SmartLifecycle {

    /** After the web server's graceful shutdown and stop (Boot's phases are DEFAULT_PHASE - 1024 and - 2048). */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

    private static final Logger log = LoggerFactory.getLogger(UsageLedger.class);
    // How long a stopping writer waits for the records of requests still finishing: the web server's
    // graceful shutdown ends when the last response is flushed, and that request's record follows
    // a few milliseconds later, on the event loop. Bounded, so an observer that never finishes
    // (a bug) delays the exit, never blocks it.
    private static final long STOP_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final long STOP_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    // How often the writer looks at the queue while a database write is under way: the records that
    // arrive in this time must fit between spill-threshold and queue-capacity.
    private static final long BACKLOG_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    // A write this long while stopping sends the rest of the queue to the spill file. A healthy
    // database takes milliseconds per batch, a first connection to it tens to hundreds.
    private static final long SLOW_WRITE_AT_STOP_NANOS = TimeUnit.SECONDS.toNanos(1);
    // How long start() waits for the rows the crash journal gave back: a healthy database has them
    // written before the web server serves (budgets then start from a complete ledger at once); a
    // slow one delays the start by this much at most, and the writer goes on with them meanwhile.
    private static final long RECOVERY_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final UsageRowWriter rows;
    private final SpillFile spill;
    private final int capacity;
    private final int spillThreshold;
    private final int batchSize;
    private final long flushNanos;
    private final long backoffNanos;
    private final long backoffMaxNanos;

    private final ConcurrentLinkedQueue<LedgerEntry> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger depth = new AtomicInteger();
    // Requests whose record is expected (admitted to the proxy) but not yet queued.
    private final AtomicInteger expected = new AtomicInteger();
    private volatile long stopDeadline;
    private final AtomicLong lost = new AtomicLong();
    private final AtomicLong spilled = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong writeFailures = new AtomicLong();
    private volatile @Nullable Thread writer;
    // Runs the calls to the database (one thread: the row writer keeps a connection for its life).
    private volatile @Nullable ExecutorService database;
    private boolean behind;
    // Whether this stop met a slow write and spilled the queue (writer thread only).
    private boolean slowStop;
    private volatile boolean running;
    private volatile boolean failing;
    private volatile @Nullable Runnable onStopped;
    // Rows of earlier runs (crash journal, spill file) still to be written when this run started,
    // and how many queued entries the writer has since written or spilled (writer thread only).
    private long earlierRunsQueued;
    private long consumed;
    private volatile boolean earlierRunsWritten;
    private volatile @Nullable Consumer<UsageRecord> onRecovered;
    private final @Nullable UsageJournal journal;

    /**
     * A ledger that writes through {@code rows}, whose rows are also kept in {@code journal} until
     * written, so a crash loses none; records the database cannot take yet wait in {@code spillFile}.
     */
    public UsageLedger(
            UsageRowWriter rows, UsageProperties properties, @Nullable UsageJournal journal, Path spillFile) {
        this.rows = rows;
        this.journal = journal;
        this.spill = new SpillFile(spillFile);
        this.capacity = Math.max(1, properties.queueCapacity());
        this.spillThreshold = Math.max(1, Math.min(properties.spillThreshold(), capacity));
        this.batchSize = Math.max(1, properties.batchSize());
        this.flushNanos = properties.flushInterval().toNanos();
        this.backoffNanos = properties.retryBackoff().toNanos();
        this.backoffMaxNanos =
                Math.max(backoffNanos, properties.retryBackoffMax().toNanos());
    }

    /** Queues a new row. Never blocks; false when the record was lost (queue full, counted). */
    public boolean record(UsageRecord record) {
        return offer(new LedgerEntry(record, false));
    }

    /**
     * Says a request's record will follow ({@link #recordExpected}): a stopping writer waits for it,
     * as the web server's graceful shutdown may end before the last records are queued.
     */
    void expectRecord() {
        expected.incrementAndGet();
    }

    /** Queues the record announced by {@link #expectRecord}. */
    boolean recordExpected(UsageRecord record) {
        // Queued first, then no longer expected: a stopping writer that finds the count at zero
        // also finds the record in the queue.
        boolean queued = record(record);
        expected.decrementAndGet();
        return queued;
    }

    /** Queues a correction of a row queued earlier (settlement). */
    public boolean correct(UsageRecord record) {
        return offer(new LedgerEntry(record, true));
    }

    private boolean offer(LedgerEntry entry) {
        if (depth.incrementAndGet() > capacity) {
            depth.decrementAndGet();
            if (lost.getAndIncrement() % 1000 == 0) {
                log.error("Usage queue full ({} records): usage records are being lost", capacity);
            }
            return false;
        }
        queue.add(entry);
        Thread current = writer;
        if (current != null && depth.get() >= batchSize) {
            LockSupport.unpark(current);
        }
        return true;
    }

    /**
     * Tells {@code listener} of each row the crash journal gives back at start, once it is written or
     * queued: settlement corrects the estimated ones (set before {@link #start}).
     */
    public void onRecovered(Consumer<UsageRecord> listener) {
        onRecovered = listener;
    }

    /** The crash journal that keeps this ledger's rows until written, if any. */
    public @Nullable UsageJournal journal() {
        return journal;
    }

    public int depth() {
        return depth.get();
    }

    public long lost() {
        return lost.get();
    }

    public long spilled() {
        return spilled.get();
    }

    public long written() {
        return written.get();
    }

    /**
     * Whether the rows earlier runs left unwritten (in the crash journal or the spill file) are all
     * in the database: until then a sum over the ledger, such as the spend budgets start from, misses them.
     */
    public boolean earlierRunsWritten() {
        return earlierRunsWritten;
    }

    private void noteEarlierRunsWritten() {
        if (!earlierRunsWritten && consumed >= earlierRunsQueued && !spill.hasEntries()) {
            earlierRunsWritten = true;
        }
    }

    /** Whether the last write attempt failed (the database is slow or down). */
    public boolean failing() {
        return failing;
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        database = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "usage-ledger-database");
            thread.setDaemon(true);
            return thread;
        });
        int recovered = recoverJournal();
        slowStop = false;
        earlierRunsQueued = depth.get();
        earlierRunsWritten = earlierRunsQueued == 0 && !spill.hasEntries();
        running = true;
        Thread thread = new Thread(this::run, "usage-ledger-writer");
        thread.setDaemon(true);
        writer = thread;
        thread.start();
        if (recovered > 0) {
            awaitEarlierRuns();
        }
    }

    /** Waits, bounded, until the rows of earlier runs are written or a write fails (the database is down). */
    private void awaitEarlierRuns() {
        long deadline = System.nanoTime() + RECOVERY_WAIT_NANOS;
        while (!earlierRunsWritten && !failing) {
            if (System.nanoTime() - deadline > 0) {
                log.warn(
                        "Usage ledger: the last run's rows are not all written after {} s (the database is slow);"
                                + " starting anyway, the writer goes on with them",
                        TimeUnit.NANOSECONDS.toSeconds(RECOVERY_WAIT_NANOS));
                return;
            }
            LockSupport.parkNanos(this, STOP_POLL_NANOS);
        }
    }

    @Override
    public void stop(Runnable callback) {
        Thread thread;
        synchronized (this) {
            thread = writer;
            if (!running || thread == null) {
                callback.run();
                return;
            }
            onStopped = callback;
            stopDeadline = System.nanoTime() + STOP_WAIT_NANOS;
            running = false;
        }
        LockSupport.unpark(thread);
    }

    @Override
    public void stop() {
        Thread thread = writer;
        stop(() -> {});
        if (thread != null) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }

    private void run() {
        List<LedgerEntry> pending = new ArrayList<>(batchSize);
        long backoff = backoffNanos;
        try {
            while (running || !pending.isEmpty() || depth.get() > 0 || awaitingExpected()) {
                if (pending.isEmpty()) {
                    // Rows of earlier runs go at once, without waiting for a full batch: start() waits for them.
                    if (running && depth.get() < batchSize && earlierRunsWritten) {
                        LockSupport.parkNanos(this, flushNanos);
                    }
                    drain(pending, batchSize);
                }
                try {
                    if (pending.isEmpty()) {
                        if (running) {
                            replaySpill();
                            noteEarlierRunsWritten();
                        }
                        continue;
                    }
                    writeWatchingBacklog(pending);
                    consumed += pending.size();
                    pending.clear();
                    backoff = backoffNanos;
                    // Checked after every batch, not only once the queue runs short: under a
                    // sustained backlog the earlier runs' rows are written long before it does.
                    noteEarlierRunsWritten();
                    // Not after a slow write while stopping: the next start replays the file.
                    if (!slowStop && depth.get() < batchSize) {
                        replaySpill();
                        noteEarlierRunsWritten();
                    }
                } catch (Exception e) {
                    writeFailures.incrementAndGet();
                    if (!failing) {
                        log.warn(
                                "Usage ledger write failed, retrying with backoff and spilling past {} queued records: {}",
                                spillThreshold,
                                e.toString());
                    }
                    failing = true;
                    if (!running || depth.get() > spillThreshold) {
                        spillQueue(pending);
                    }
                    if (running) {
                        LockSupport.parkNanos(this, backoff);
                        backoff = Math.min(backoff * 2, backoffMaxNanos);
                    }
                }
            }
        } finally {
            closeDatabase();
            if (journal != null) {
                journal.close();
            }
            Runnable callback = onStopped;
            if (callback != null) {
                callback.run();
            }
        }
    }

    /** Once stopping and the queue is empty: waits (bounded) for records of requests still finishing. */
    private boolean awaitingExpected() {
        int missing = expected.get();
        if (missing <= 0) {
            return false;
        }
        if (System.nanoTime() - stopDeadline > 0) {
            log.warn("Usage ledger stopped with {} requests' records never queued", missing);
            return false;
        }
        LockSupport.parkNanos(this, STOP_POLL_NANOS);
        return true;
    }

    /**
     * Hands the rows the crash journal kept from the last run to the writer, ahead of any new record,
     * and returns how many: queued, or, when they would take the queue past {@code spill-threshold},
     * put in the spill file, so that a large journal never fills the queue. Written by the writer
     * thread like any other row (retried, spilled if need be), never by the starting thread: a slow
     * database must not hold the start for every batch. Queued rows stay in the journal until written.
     */
    private int recoverJournal() {
        UsageJournal current = journal;
        if (current == null) {
            return 0;
        }
        List<UsageRecord> recovered;
        try {
            recovered = current.recover();
        } catch (IOException e) {
            log.error("Usage journal {} unavailable, running without it: {}", current.path(), e.toString());
            return 0;
        }
        recovered = withoutSpilledCutOffs(recovered);
        if (recovered.isEmpty()) {
            return 0;
        }
        long interrupted = recovered.stream()
                .filter(r -> r.outcome() == UsageOutcome.INTERRUPTED)
                .count();
        log.info(
                "Usage journal {}: writing {} rows the last run left unwritten ({} interrupted requests)",
                current.path(),
                recovered.size(),
                interrupted);
        List<LedgerEntry> entries = new ArrayList<>(recovered.size());
        recovered.forEach(record -> entries.add(new LedgerEntry(record, false)));
        if (depth.get() + entries.size() <= spillThreshold || !spillRecovered(entries)) {
            entries.forEach(this::offer);
        }
        Consumer<UsageRecord> listener = onRecovered;
        if (listener != null) {
            recovered.forEach(listener);
        }
        return recovered.size();
    }

    /**
     * The recovered rows without the requests the journal saw cut off whose finished record the spill
     * file already holds: the crash came after the record was spilled (forced to disk) but before the
     * journal's next group wrote that it finished. The real record wins; the row the journal would
     * make of the admission alone ({@code interrupted}, an estimate) would have been written first
     * and kept, the spilled one then skipped as a duplicate.
     */
    private List<UsageRecord> withoutSpilledCutOffs(List<UsageRecord> recovered) {
        if (!spill.hasEntries() || recovered.stream().noneMatch(r -> r.outcome() == UsageOutcome.INTERRUPTED)) {
            return recovered;
        }
        Set<String> spilled;
        try {
            spilled = spill.appendedEntryIds();
        } catch (IOException e) {
            log.warn("Could not read the spill file {} at start: {}", spill.path(), e.toString());
            return recovered;
        }
        return recovered.stream()
                .filter(r -> r.outcome() != UsageOutcome.INTERRUPTED || !spilled.contains(r.entryId()))
                .toList();
    }

    /** Puts recovered rows in the spill file; false, with nothing spilled, when the disk refuses. */
    private boolean spillRecovered(List<LedgerEntry> entries) {
        try {
            moveToSpillFile(entries);
            return true;
        } catch (IOException e) {
            log.warn(
                    "Could not spill the journal's {} rows to {}, queueing them: {}",
                    entries.size(),
                    spill.path(),
                    e.toString());
            return false;
        }
    }

    private void drain(List<LedgerEntry> into, int max) {
        LedgerEntry entry;
        while (into.size() < max && (entry = queue.poll()) != null) {
            depth.decrementAndGet();
            into.add(entry);
        }
    }

    /**
     * Writes the entries on the database's thread. Meanwhile, and once it is done, the writer moves a
     * queue past {@code spill-threshold} to the spill file: a database too slow for the traffic then
     * never fills the queue. While stopping, a write past {@link #SLOW_WRITE_AT_STOP_NANOS} sends the
     * whole queue there, so that a stop waits for one slow write, not for one per batch (replayed at
     * the next start).
     */
    private void writeWatchingBacklog(List<LedgerEntry> entries) throws Exception {
        long started = System.nanoTime();
        Future<?> done = submit(() -> write(entries));
        while (true) {
            try {
                done.get(BACKLOG_CHECK_NANOS, TimeUnit.NANOSECONDS);
                break;
            } catch (TimeoutException stillWriting) {
                if (!running && System.nanoTime() - started > SLOW_WRITE_AT_STOP_NANOS) {
                    slowStop = true;
                }
                spillBacklog(slowStop ? 0 : spillThreshold);
            } catch (ExecutionException e) {
                throw unwrap(e);
            }
        }
        spillBacklog(spillThreshold);
    }

    private void spillBacklog(int threshold) {
        if (depth.get() <= threshold) {
            behind = false;
            return;
        }
        if (!behind) {
            behind = true;
            log.warn(
                    "Usage ledger behind the traffic ({} records queued while the database writes): moving them to {}",
                    depth.get(),
                    spill.path());
        }
        spillQueue(new ArrayList<>(depth.get()));
    }

    /** Moves {@code pending} and everything queued to the spill file, replayed once the database keeps up. */
    private void spillQueue(List<LedgerEntry> pending) {
        drain(pending, Integer.MAX_VALUE);
        spill(pending);
        consumed += pending.size();
        pending.clear();
    }

    private Future<?> submit(DatabaseWork work) {
        ExecutorService current = database;
        if (current == null) {
            throw new IllegalStateException("usage ledger not started");
        }
        return current.submit((Callable<@Nullable Void>) () -> {
            work.run();
            return null;
        });
    }

    /** A call to the database, made on its thread. */
    private interface DatabaseWork {
        void run() throws Exception;
    }

    private static Exception unwrap(ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof Error error) {
            throw error;
        }
        return cause instanceof Exception exception ? exception : e;
    }

    private void closeDatabase() {
        ExecutorService current = database;
        if (current == null) {
            return;
        }
        try {
            submit(rows::close).get();
        } catch (ExecutionException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.warn("Usage ledger's database connection not closed cleanly: {}", e.toString());
        } finally {
            current.shutdown();
        }
    }

    private void write(List<LedgerEntry> entries) throws Exception {
        List<UsageRecord> inserts = new ArrayList<>(entries.size());
        for (LedgerEntry entry : entries) {
            if (!entry.correction()) {
                inserts.add(entry.record());
            }
        }
        // Appends first: a correction may name a row appended in this very batch.
        int refused = rows.insert(inserts);
        if (refused > 0) {
            // Logged row by row by the writer; counted with the records lost.
            lost.addAndGet(refused);
        }
        for (LedgerEntry entry : entries) {
            if (entry.correction()) {
                rows.correct(entry.record());
            }
        }
        written.addAndGet(inserts.size() - refused);
        if (journal != null) {
            journal.committed(inserts);
        }
        if (failing) {
            failing = false;
            log.info("Usage ledger writes recovered");
        }
    }

    private void spill(List<LedgerEntry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        try {
            moveToSpillFile(entries);
        } catch (IOException e) {
            lost.addAndGet(entries.size());
            log.error("Could not spill {} usage records to {}: they are lost", entries.size(), spill.path(), e);
        }
    }

    private void moveToSpillFile(List<LedgerEntry> entries) throws IOException {
        spill.append(entries);
        spilled.addAndGet(entries.size());
        if (journal != null) {
            // In the spill file, forced to disk and replayed from there: the journal may forget them.
            journal.committed(entries.stream()
                    .filter(entry -> !entry.correction())
                    .map(LedgerEntry::record)
                    .toList());
        }
    }

    private void replaySpill() throws Exception {
        if (!spill.hasEntries()) {
            return;
        }
        long replayed;
        try {
            replayed = spill.replay(batchSize, batch -> {
                try {
                    writeWatchingBacklog(batch);
                } catch (Exception e) {
                    throw new ReplayFailed(e);
                }
            });
        } catch (ReplayFailed e) {
            throw (Exception) e.getCause();
        }
        if (replayed > 0) {
            log.info("Replayed {} usage records from {}", replayed, spill.path());
        }
    }

    private static final class ReplayFailed extends RuntimeException {
        ReplayFailed(Exception cause) {
            super(cause);
        }
    }
}
