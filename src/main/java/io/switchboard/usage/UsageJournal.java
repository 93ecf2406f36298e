package io.switchboard.usage;

import io.netty.util.internal.ThreadExecutorMap;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The usage ledger's crash journal: a local append-only file of every admitted request and every
 * ended record, so that a process killed without a graceful shutdown ({@code kill -9}, an
 * out-of-memory kill) loses no ledger row. At the next start the ledger writes what the file holds
 * and the database may lack: ended records, and an {@code interrupted} row for each request that
 * was cut off.
 *
 * <p>The file is mapped into memory ({@link JournalSegment}). The upstream call must not start before
 * its admission is in the file (otherwise a kill right after could leave a request the upstream saw
 * and no row for it), so the request's own event loop appends the admission line there itself: a
 * copy into the page cache, no system call, no wait for another thread. With {@code fsync=always}
 * (or when the file has no room left) the admission goes to the writer thread instead, and the
 * upstream call waits until it is written and forced. Everything else is queued for the writer: it
 * formats ended records and the line that names a request's generation in groups, at most
 * {@code flush-interval} later. When the ledger has written rows, the journal appends a commit line
 * for them after {@code commit-delay}, and once the file grew by {@code max-size} it is replaced by a
 * new one that starts with only the entries still live, so it stays small.
 *
 * <p>Written by hand rather than with a write-ahead-log library: the file is a few hundred lines of
 * short JSON, and the libraries we looked at (Chronicle Queue, Tape) bring their own file formats,
 * threads or off-heap memory for what is here one loop and one mapped file.
 */
public final class UsageJournal {

    private static final Executor PARALLEL = command -> Schedulers.parallel().schedule(command);

    private static final Logger log = LoggerFactory.getLogger(UsageJournal.class);

    private final Path file;
    private final Path nextFile;
    private final Path lockFile;
    private final long flushNanos;
    private final UsageProperties.Fsync fsync;
    private final long fsyncIntervalNanos;
    private final long commitDelayNanos;
    private final long maxBytes;
    private final int capacity;
    private final int wakeAt;

    private final ConcurrentLinkedQueue<Object> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger depth = new AtomicInteger();
    private final AtomicLong unjournaled = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();

    /** The file lines are appended to now; replaced (by the writer) when it has grown by max-size. */
    private volatile @Nullable JournalSegment segment;

    // Writer thread only (and the start-up replay before it runs).
    private final LiveEntries live = new LiveEntries();
    private final ArrayDeque<Commit> commits = new ArrayDeque<>();
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(64 * 1024);
    private @Nullable FileLock lock;
    private @Nullable FileChannel lockChannel;
    private long rollAt;
    private boolean notMoved;
    private long lastForceNanos;

    private volatile @Nullable Thread writer;
    private volatile boolean running;

    /** Tests only: runs on the writer when a replacement file holds the live entries, before it takes appends. */
    private volatile Runnable beforeReplacementTakesAppends = () -> {};

    private volatile Runnable afterReplacementCreated = () -> {};

    public UsageJournal(Path file, UsageProperties.Journal properties, int capacity) {
        this.file = file.toAbsolutePath();
        this.nextFile = replacementOf(this.file);
        this.lockFile = this.file.resolveSibling(this.file.getFileName() + ".lock");
        this.flushNanos = Math.max(properties.flushInterval().toNanos(), TimeUnit.MILLISECONDS.toNanos(1));
        this.fsync = properties.fsync();
        this.fsyncIntervalNanos = properties.fsyncInterval().toNanos();
        this.commitDelayNanos = properties.commitDelay().toNanos();
        this.maxBytes = Math.max(properties.maxSize().toBytes(), 64 * 1024);
        this.capacity = Math.max(1, capacity);
        this.wakeAt = Math.max(1, this.capacity / 4);
    }

    public Path path() {
        return file;
    }

    /** Requests that went upstream without an admission in the journal (queue full or disk failing). */
    public long unjournaled() {
        return unjournaled.get();
    }

    /**
     * Takes the journal file (one gateway per file), reads what the last run left, rewrites the file
     * with only those entries, and starts the writer. Runs before the web server takes traffic.
     *
     * @return the rows the database may lack: the caller writes them, then reports them {@link #committed}
     */
    synchronized List<UsageRecord> recover() throws IOException {
        if (running) {
            return List.of();
        }
        Files.createDirectories(file.getParent());
        FileChannel locking = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock taken;
        try {
            taken = locking.tryLock();
        } catch (OverlappingFileLockException e) {
            taken = null;
        }
        if (taken == null) {
            locking.close();
            throw new IOException("another gateway uses the usage journal " + file);
        }
        lockChannel = locking;
        lock = taken;
        List<UsageRecord> unwritten;
        try {
            // A replacement a kill left beside the file is moved aside first: the rewrite below
            // truncates the replacement's name, and a second kill before the rewrite was whole
            // lost the lines only it held. Aside already (a kill during an earlier start), the
            // replacement there is a rewrite of the file and what is aside, and is read anyway.
            Path leftover = leftoverOf(file);
            if (Files.exists(nextFile) && !Files.exists(leftover)) {
                Files.move(nextFile, leftover, StandardCopyOption.ATOMIC_MOVE);
            }
            int skipped = read(file, live);
            if (skipped > 0) {
                log.warn("Usage journal {}: {} unreadable lines skipped", file, skipped);
            }
            unwritten = live.unwritten();
            roll(new ArrayList<>());
            Files.deleteIfExists(leftover);
        } catch (IOException | RuntimeException e) {
            closeFiles(); // the lock too: a start that tries again must be able to take it
            throw e;
        }
        running = true;
        Thread thread = new Thread(this::run, "usage-journal-writer");
        thread.setDaemon(true);
        writer = thread;
        thread.start();
        return unwritten;
    }

    /**
     * Applies what a journal at {@code file} holds to {@code entries}: the file, then the one a kill
     * in the middle of replacing it left beside it (which continues it).
     *
     * @return the number of lines that could not be read
     */
    static int read(Path file, LiveEntries entries) throws IOException {
        return JournalFormat.read(file, entries)
                + JournalFormat.read(leftoverOf(file), entries)
                + JournalFormat.read(replacementOf(file), entries);
    }

    /** Where a start moves a replacement a kill left behind, until its own rewrite is in place. */
    private static Path leftoverOf(Path file) {
        Path absolute = file.toAbsolutePath();
        return absolute.resolveSibling(absolute.getFileName() + ".recovering");
    }

    /** Where the file that replaces {@code file} is written before it is moved over it. */
    private static Path replacementOf(Path file) {
        Path absolute = file.toAbsolutePath();
        return absolute.resolveSibling(absolute.getFileName() + ".next");
    }

    /**
     * Journals an admission. Never blocks.
     *
     * @return null when the admission is in the file already, or could not be journaled; else what
     *     completes (off the writer thread) once the writer has it in the file; never fails
     */
    public @Nullable Mono<Void> admit(JournalAdmission admission) {
        Thread current = writer;
        if (current == null || !reserve()) {
            return null;
        }
        if (fsync != UsageProperties.Fsync.ALWAYS && appendNow(admission)) {
            return null;
        }
        Admitted entry = new Admitted(admission, new CompletableFuture<>());
        queue.add(entry);
        LockSupport.unpark(current);
        // The upstream call continues on the event loop that admitted it (no hop to another pool,
        // and the request's channel work stays on its own loop), never on the journal's writer thread.
        Executor resume = ThreadExecutorMap.currentExecutor();
        Executor continueOn = resume != null ? resume : PARALLEL;
        return Mono.create(sink -> entry.durable.whenComplete((done, error) -> continueOn.execute(sink::success)));
    }

    /** Appends the admission line on the calling thread; the writer learns of it through the queue. */
    private boolean appendNow(JournalAdmission admission) {
        JournalSegment into = segment;
        if (into == null) {
            return false;
        }
        byte[] json;
        try {
            json = JournalFormat.admissionJson(admission);
        } catch (RuntimeException e) {
            return false;
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            if (into.append(JournalFormat.ADMITTED, json, queue, new Appended(admission, into))) {
                return true;
            }
            JournalSegment newer = segment;
            if (newer == null || newer == into) {
                return false;
            }
            into = newer;
        }
        return false;
    }

    /**
     * Journals the generation id the upstream gave an admitted request, so a crash before it ends
     * still leaves a row that settlement can correct. Never blocks and wakes no one: the line goes
     * with the next group, and a full queue drops it (the row then stays an estimate, as before).
     */
    public void generation(String entryId, String generationId) {
        if (writer != null && hasRoom()) {
            queue.add(new JournalGeneration(entryId, generationId));
        }
    }

    /** Journals an ended record, before the ledger gets it. Never blocks. */
    public void finished(UsageRecord record) {
        if (writer != null && reserve()) {
            queue.add(record);
        }
    }

    /** The ledger wrote these rows (to the database or its spill file). Called on the ledger's writer. */
    void committed(List<UsageRecord> records) {
        if (writer == null || records.isEmpty()) {
            return;
        }
        List<String> ids = new ArrayList<>(records.size());
        for (UsageRecord record : records) {
            ids.add(record.entryId());
        }
        depth.incrementAndGet();
        queue.add(new Commit(ids, System.nanoTime()));
    }

    private boolean reserve() {
        if (hasRoom()) {
            return true;
        }
        if (unjournaled.getAndIncrement() % 1000 == 0) {
            log.error("Usage journal queue full ({} entries): requests are not being journaled", capacity);
        }
        return false;
    }

    private boolean hasRoom() {
        int queued = depth.incrementAndGet();
        if (queued > capacity) {
            depth.decrementAndGet();
            return false;
        }
        if (queued == wakeAt) {
            // A burst fills the queue faster than one flush-interval: write now rather than drop later.
            Thread current = writer;
            if (current != null) {
                LockSupport.unpark(current);
            }
        }
        return true;
    }

    /** Stops the writer after it appended everything queued; commits not yet due stay live in the file. */
    void close() {
        Thread thread;
        synchronized (this) {
            thread = writer;
            if (!running || thread == null) {
                return;
            }
            running = false;
        }
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        List<CompletableFuture<Void>> waiting = new ArrayList<>();
        try {
            while (running || !queue.isEmpty()) {
                if (running) {
                    // Lines come in groups every flush-interval; only an admission that waits wakes it sooner.
                    LockSupport.parkNanos(this, flushNanos);
                }
                drain(waiting);
                writeGroup(waiting);
            }
        } finally {
            waiting.forEach(future -> future.complete(null));
            closeFiles();
        }
    }

    /**
     * Takes everything queued, formats its lines into the buffer, and appends the commit lines now
     * due. Both always together: commits drained and not applied would leave their rows live, and a
     * replacement or the last group before a stop could drain them.
     */
    private void drain(List<CompletableFuture<Void>> waiting) {
        takeQueued(waiting);
        appendDueCommits(System.nanoTime());
    }

    private void takeQueued(List<CompletableFuture<Void>> waiting) {
        Object next;
        while ((next = queue.poll()) != null) {
            depth.decrementAndGet();
            try {
                if (next instanceof Appended appended) {
                    live.admitted(appended.admission);
                    if (appended.into != segment) {
                        // Its file is being replaced and the new one started without it.
                        JournalFormat.admitted(appended.admission, buffer);
                    }
                } else if (next instanceof Admitted admitted) {
                    waiting.add(admitted.durable);
                    live.admitted(admitted.admission);
                    JournalFormat.admitted(admitted.admission, buffer);
                } else if (next instanceof JournalGeneration generation) {
                    live.generation(generation);
                    JournalFormat.generation(generation, buffer);
                } else if (next instanceof UsageRecord record) {
                    live.finished(record);
                    JournalFormat.finished(record, buffer);
                } else if (next instanceof Commit commit) {
                    commits.add(commit);
                }
            } catch (RuntimeException e) {
                failures.incrementAndGet();
                log.error("Usage journal could not format an entry", e);
            }
        }
    }

    private void appendDueCommits(long now) {
        Commit commit;
        while ((commit = commits.peek()) != null && now - commit.atNanos >= commitDelayNanos) {
            commits.poll();
            JournalFormat.committed(commit.entryIds, buffer);
            commit.entryIds.forEach(live::committed);
        }
    }

    /** One append (and, if due, one force) for everything formatted since the last group. */
    private void writeGroup(List<CompletableFuture<Void>> waiting) {
        try {
            JournalSegment into = segment;
            if (into == null) {
                throw new IOException("the usage journal is not open");
            }
            if (buffer.size() > 0) {
                byte[] lines = buffer.toByteArray();
                buffer.reset();
                if (!into.appendLines(lines)) {
                    // No room: the next file starts with every live entry, these lines' included.
                    roll(waiting);
                }
            }
            JournalSegment current = segment;
            if (current != null && current.used() > rollAt) {
                roll(waiting);
                current = segment;
            }
            long now = System.nanoTime();
            if (current != null
                    && current.unforced()
                    && (fsync == UsageProperties.Fsync.ALWAYS
                            || (fsync == UsageProperties.Fsync.INTERVAL
                                    && now - lastForceNanos >= fsyncIntervalNanos))) {
                current.force();
                lastForceNanos = now;
            }
        } catch (IOException | RuntimeException e) {
            buffer.reset();
            if (failures.getAndIncrement() % 1000 == 0) {
                log.error("Usage journal {} write failed: requests go on, a crash now may lose their rows", file, e);
            }
        } finally {
            // Requests wait for their admission, never for a failing disk.
            waiting.forEach(future -> future.complete(null));
            waiting.clear();
        }
    }

    /**
     * Replaces the file with a new one that starts with the live entries alone, sized for them and
     * {@code max-size} of appends after them. The new file is written aside, then takes appends from
     * then on; the old one is sealed (no append still copying into it), which leaves the notes of
     * every admission appended to it in the queue: those not in the new file are written to it
     * again. The new file is forced and moved over the old one last, so a kill at any point leaves
     * files that, read in order, give the same entries.
     */
    private void roll(List<CompletableFuture<Void>> waiting) throws IOException {
        if (notMoved) {
            // The last replacement failed to move its file into place: finish that first.
            Files.move(nextFile, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            notMoved = false;
        }
        ByteArrayOutputStream lines = new ByteArrayOutputStream();
        live.writeTo(lines);
        byte[] entries = lines.toByteArray();
        // Room for max-size of appends and a quarter more: the writer replaces the file within a group
        // (flush-interval) of it passing max-size, and appends that find no room go through the writer
        // instead. Every page of a new file is touched up front (see JournalSegment#create), so room
        // that is never used costs page faults: twice max-size spent half of them for nothing.
        JournalSegment next = JournalSegment.create(nextFile, entries.length + maxBytes + maxBytes / 4);
        afterReplacementCreated.run();
        next.appendLines(entries); // sized for them, and no one else appends to it yet
        beforeReplacementTakesAppends.run();
        JournalSegment old = segment;
        segment = next;
        notMoved = true;
        if (old != null) {
            old.seal();
            drain(waiting);
            old.close(false); // released before the move: some systems refuse to replace a mapped file
        }
        if (buffer.size() > 0) {
            byte[] learned = buffer.toByteArray();
            buffer.reset();
            if (!next.appendLines(learned)) {
                // More arrived meanwhile than max-size: they are live entries now, and the next file holds them.
                roll(waiting);
                return;
            }
        }
        if (fsync != UsageProperties.Fsync.NEVER) {
            next.force();
            lastForceNanos = System.nanoTime();
        }
        Files.move(nextFile, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        notMoved = false;
        rollAt = next.used() + maxBytes;
    }

    /**
     * For tests: {@code hook} runs on the writer in each replacement, after the live entries are in the
     * new file and before appends go to it, the moment where an event loop can still append to the old
     * file an admission the new one lacks.
     */
    void beforeReplacementTakesAppends(Runnable hook) {
        beforeReplacementTakesAppends = hook;
    }

    /** For tests: {@code hook} runs in each replacement once its file is created, before anything is in it. */
    void afterReplacementCreated(Runnable hook) {
        afterReplacementCreated = hook;
    }

    private void closeFiles() {
        try {
            JournalSegment last = segment;
            if (last != null) {
                last.seal();
                last.force();
                last.close(true);
            }
            FileLock held = lock;
            if (held != null) {
                held.release();
            }
            FileChannel locking = lockChannel;
            if (locking != null) {
                locking.close();
            }
        } catch (IOException e) {
            log.warn("Usage journal {} did not close cleanly: {}", file, e.toString());
        }
        segment = null;
        writer = null;
    }

    private record Admitted(JournalAdmission admission, CompletableFuture<Void> durable) {}

    /** An admission its own thread appended to {@code into}: the writer only tracks it. */
    private record Appended(JournalAdmission admission, JournalSegment into) {}

    private record Commit(List<String> entryIds, long atNanos) {}
}
