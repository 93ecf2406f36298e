package io.switchboard.usage;

import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One file of the crash journal, sized up front and mapped into memory, that any thread appends
 * whole lines to without a system call: a line is in the operating system's page cache (and so
 * survives the process being killed) as soon as {@link #append} returns. Space is reserved with a
 * compare-and-set on the end position, so writers never overlap; a line whose writer was killed
 * halfway leaves zero bytes, which the reader treats as a line break.
 *
 * <p>The writer thread retires a segment by {@link #seal sealing} it, which waits until no
 * {@link #append} that started before is still copying. Mapped memory is released at once on
 * {@link #close} (through Netty's cleaner), not whenever the collector finds the buffer: a retired
 * segment would otherwise stay in the process's memory for an old-generation collection. Java 17
 * has no public way to unmap; Netty's {@code freeDirectBuffer} (deprecated in 4.2 for buffers Netty
 * allocates, still the one call that unmaps a mapped buffer) does it through the JDK's cleaner.
 */
@SuppressWarnings("deprecation")
final class JournalSegment {

    private static final int PAGE = 4096;

    private final FileChannel channel;
    private final MappedByteBuffer memory;
    private final int capacity;
    private final AtomicLong end = new AtomicLong();
    private final AtomicInteger copying = new AtomicInteger();
    private volatile boolean sealed;
    private long forcedEnd;

    private JournalSegment(FileChannel channel, MappedByteBuffer memory, int capacity) {
        this.channel = channel;
        this.memory = memory;
        this.capacity = capacity;
    }

    /**
     * Creates {@code path} (replacing it) with room for {@code bytes}, maps it and touches every page,
     * so that appends on the request path do not take the page faults of a new file.
     */
    static JournalSegment create(Path path, long bytes) throws IOException {
        int capacity = (int) Math.min(Integer.MAX_VALUE - PAGE, (bytes + PAGE - 1) / PAGE * PAGE);
        FileChannel channel = FileChannel.open(
                path,
                StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            MappedByteBuffer memory = channel.map(FileChannel.MapMode.READ_WRITE, 0, capacity);
            try {
                for (int page = 0; page < capacity; page += PAGE) {
                    memory.put(page, (byte) 0);
                }
            } catch (InternalError e) {
                // A full disk shows here, as the fault of a page the file system could not allocate
                // (the JVM turns it into this error). Touching every page now means it shows here,
                // on the writer thread, and never in an append on the request path.
                PlatformDependent.freeDirectBuffer(memory);
                throw new IOException("cannot allocate " + capacity + " bytes for " + path, e);
            }
            return new JournalSegment(channel, memory, capacity);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Bytes appended so far. */
    long used() {
        return end.get();
    }

    /**
     * Appends the line {@code kind + ' ' + json + '\n'}, then adds {@code note} to {@code writerQueue}
     * before a {@link #seal} can return, so that the thread retiring this segment knows every line in
     * it. Safe from any thread.
     *
     * @return false when the segment is sealed or has no room left: nothing was written or added
     */
    boolean append(byte kind, byte[] json, Queue<Object> writerQueue, Object note) {
        int length = json.length + 3;
        copying.incrementAndGet();
        try {
            int at = reserve(length);
            if (at < 0) {
                return false;
            }
            memory.put(at, kind);
            memory.put(at + 1, (byte) ' ');
            memory.put(at + 2, json);
            memory.put(at + length - 1, (byte) '\n');
            writerQueue.add(note);
            return true;
        } finally {
            copying.decrementAndGet();
        }
    }

    /** Appends bytes that are already whole lines. Safe from any thread. */
    boolean appendLines(byte[] lines) {
        copying.incrementAndGet();
        try {
            int at = reserve(lines.length);
            if (at < 0) {
                return false;
            }
            memory.put(at, lines);
            return true;
        } finally {
            copying.decrementAndGet();
        }
    }

    /** Where {@code length} bytes may be copied, or -1 (sealed, or no room). Only while counted as copying. */
    private int reserve(int length) {
        if (sealed) {
            return -1;
        }
        long at;
        do {
            at = end.get();
            if (at + length > capacity) {
                return -1;
            }
        } while (!end.compareAndSet(at, at + length));
        return (int) at;
    }

    /**
     * Refuses every later append and waits for those already copying: after this, every line this
     * segment will ever hold is in it, and their writers have returned.
     */
    void seal() {
        sealed = true;
        while (copying.get() > 0) {
            // An append is a short copy; its thread may just have been descheduled on a busy core.
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(20));
        }
    }

    /** Forces what was appended since the last force to disk (writer thread). */
    void force() {
        long now = used();
        if (now > forcedEnd) {
            memory.force((int) forcedEnd, (int) (now - forcedEnd));
            forcedEnd = now;
        }
    }

    /** Whether something was appended since the last {@link #force}. */
    boolean unforced() {
        return used() > forcedEnd;
    }

    /**
     * Releases the mapping and the file, cutting it to what was appended when {@code trim} (a
     * segment still in use as the journal), else leaving it as it is. Only after {@link #seal}.
     */
    void close(boolean trim) throws IOException {
        long length = used();
        try {
            PlatformDependent.freeDirectBuffer(memory);
            if (trim) {
                channel.truncate(length);
            }
        } finally {
            channel.close();
        }
    }
}
