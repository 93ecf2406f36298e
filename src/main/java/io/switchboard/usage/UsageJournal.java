package io.switchboard.usage;

import io.netty.util.internal.ThreadExecutorMap;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
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
 * <p>The request path only enqueues (lock-free, no I/O). One writer thread formats the lines and
 * appends them in groups, one write per group: an admission wakes it at once, because the upstream
 * call waits until the admission is in the file (otherwise a kill right after could leave a request
 * the upstream saw and no row for it); ended records wait up to {@code flush-interval} and go with
 * the next group, and so does the line that names a request's generation once the upstream's
 * response headers (or a stream's first event) give it. When the ledger has written rows, the journal
 * appends a commit line for them after {@code commit-delay}, and once the file passes
 * {@code max-size} it is rewritten with only the entries still live, so it stays small.
 *
 * <p>Written by hand rather than with a write-ahead-log library: the file is a few hundred lines of
 * short JSON, and the libraries we looked at (Chronicle Queue, Tape) bring their own file formats,
 * threads or off-heap memory for what is here one loop.
 */
public final class UsageJournal {

    private static final Executor PARALLEL = command -> Schedulers.parallel().schedule(command);

    private static final Logger log = LoggerFactory.getLogger(UsageJournal.class);

    private final Path file;
    private final Path lockFile;
    private final long flushNanos;
    private final UsageProperties.Fsync fsync;
    private final long fsyncIntervalNanos;
    private final long commitDelayNanos;
    private final long maxBytes;
    private final int capacity;

    private final ConcurrentLinkedQueue<Object> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger depth = new AtomicInteger();
    private final AtomicLong unjournaled = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();

    // Writer thread only (and the start-up replay before it runs).
    private final LiveEntries live = new LiveEntries();
    private final ArrayDeque<Commit> commits = new ArrayDeque<>();
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(64 * 1024);
    private @Nullable FileChannel channel;
    private @Nullable FileLock lock;
    private @Nullable FileChannel lockChannel;
    private long fileBytes;
    private long compactedBytes;
    private long lastForceNanos;
    private boolean unforced;

    private volatile @Nullable Thread writer;
    private volatile boolean running;

    public UsageJournal(Path file, UsageProperties.Journal properties, int capacity) {
        this.file = file.toAbsolutePath();
        this.lockFile = this.file.resolveSibling(this.file.getFileName() + ".lock");
        this.flushNanos = Math.max(properties.flushInterval().toNanos(), TimeUnit.MILLISECONDS.toNanos(1));
        this.fsync = properties.fsync();
        this.fsyncIntervalNanos = properties.fsyncInterval().toNanos();
        this.commitDelayNanos = properties.commitDelay().toNanos();
        this.maxBytes = Math.max(properties.maxSize().toBytes(), 64 * 1024);
        this.capacity = Math.max(1, capacity);
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
        int skipped = JournalFormat.read(file, live);
        if (skipped > 0) {
            log.warn("Usage journal {}: {} unreadable lines skipped", file, skipped);
        }
        List<UsageRecord> unwritten = live.unwritten();
        compact();
        running = true;
        Thread thread = new Thread(this::run, "usage-journal-writer");
        thread.setDaemon(true);
        writer = thread;
        thread.start();
        return unwritten;
    }

    /**
     * Journals an admission. Never blocks.
     *
     * @return completes (off the writer thread) once the admission is in the file, or at once when it
     *     could not be journaled; never fails
     */
    public Mono<Void> admit(JournalAdmission admission) {
        Thread current = writer;
        if (current == null || !reserve()) {
            return Mono.empty();
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
        if (depth.incrementAndGet() > capacity) {
            depth.decrementAndGet();
            return false;
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
                if (queue.isEmpty() && running) {
                    LockSupport.parkNanos(this, flushNanos);
                }
                drain(waiting);
                appendDueCommits(System.nanoTime());
                writeGroup(waiting);
            }
        } finally {
            waiting.forEach(future -> future.complete(null));
            closeFiles();
        }
    }

    private void drain(List<CompletableFuture<Void>> waiting) {
        Object next;
        while ((next = queue.poll()) != null) {
            depth.decrementAndGet();
            try {
                if (next instanceof Admitted admitted) {
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

    /** One write (and, if due, one force) for everything formatted since the last group. */
    private void writeGroup(List<CompletableFuture<Void>> waiting) {
        try {
            if (buffer.size() > 0) {
                FileChannel out = channel;
                if (out == null) {
                    throw new IOException("the usage journal is not open");
                }
                ByteBuffer bytes = ByteBuffer.wrap(buffer.toByteArray());
                buffer.reset();
                while (bytes.hasRemaining()) {
                    fileBytes += out.write(bytes);
                }
                unforced = true;
            }
            long now = System.nanoTime();
            if (unforced
                    && (fsync == UsageProperties.Fsync.ALWAYS
                            || (fsync == UsageProperties.Fsync.INTERVAL
                                    && now - lastForceNanos >= fsyncIntervalNanos))) {
                force(now);
            }
            // Past max-size, and well past what the last rewrite kept (else every group would rewrite).
            if (fileBytes > maxBytes && fileBytes > 2 * compactedBytes) {
                compact();
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

    private void force(long now) throws IOException {
        FileChannel out = channel;
        if (out != null) {
            out.force(false);
        }
        lastForceNanos = now;
        unforced = false;
    }

    /** Replaces the file with the live entries alone: written aside, forced, then moved over atomically. */
    private void compact() throws IOException {
        ByteArrayOutputStream lines = new ByteArrayOutputStream();
        live.writeTo(lines);
        Path next = file.resolveSibling(file.getFileName() + ".next");
        try (FileChannel out = FileChannel.open(
                next, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer bytes = ByteBuffer.wrap(lines.toByteArray());
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(true);
        }
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        FileChannel previous = channel;
        if (previous != null) {
            previous.close();
        }
        channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        fileBytes = lines.size();
        compactedBytes = fileBytes;
        lastForceNanos = System.nanoTime();
        unforced = false;
    }

    private void closeFiles() {
        try {
            FileChannel out = channel;
            if (out != null) {
                if (unforced) {
                    out.force(false);
                }
                out.close();
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
        channel = null;
        writer = null;
    }

    private record Admitted(JournalAdmission admission, CompletableFuture<Void> durable) {}

    private record Commit(List<String> entryIds, long atNanos) {}
}
