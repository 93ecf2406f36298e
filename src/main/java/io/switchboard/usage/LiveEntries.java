package io.switchboard.usage;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The journal's entries that the database may still lack, by entry id, in admission order: requests
 * admitted and not ended, and records ended but not yet known to be written. Used by one thread at a
 * time (the start-up replay, then the journal's writer).
 */
final class LiveEntries {

    private final Map<String, Live> live = new LinkedHashMap<>();

    void admitted(JournalAdmission admission) {
        live.computeIfAbsent(admission.entryId(), id -> new Live()).admission = admission;
    }

    /** Kept only for a request still open: an ended record names its generation itself. */
    void generation(JournalGeneration generation) {
        Live entry = live.get(generation.entryId());
        if (entry != null && entry.record == null) {
            entry.generation = generation;
        }
    }

    void finished(UsageRecord record) {
        live.computeIfAbsent(record.entryId(), id -> new Live()).record = record;
    }

    void committed(String entryId) {
        live.remove(entryId);
    }

    int size() {
        return live.size();
    }

    /**
     * The rows the database may lack: each ended request's record, and an {@code interrupted} row for
     * each request that was admitted and never ended (with its generation id when the upstream had
     * named it, so that settlement can replace the estimate).
     */
    List<UsageRecord> unwritten() {
        List<UsageRecord> rows = new ArrayList<>(live.size());
        for (Live entry : live.values()) {
            if (entry.record != null) {
                rows.add(entry.record);
            } else if (entry.admission != null) {
                JournalGeneration generation = entry.generation;
                UsageRecord interrupted = entry.admission.interrupted();
                rows.add(generation == null ? interrupted : interrupted.withGeneration(generation.generationId()));
            }
        }
        return rows;
    }

    /** The lines that rebuild these entries: what a compacted journal holds. */
    void writeTo(ByteArrayOutputStream out) {
        for (Live entry : live.values()) {
            if (entry.admission != null) {
                JournalFormat.admitted(entry.admission, out);
                if (entry.generation != null && entry.record == null) {
                    JournalFormat.generation(entry.generation, out);
                }
            }
            if (entry.record != null) {
                JournalFormat.finished(entry.record, out);
            }
        }
    }

    private static final class Live {
        @Nullable
        JournalAdmission admission;

        @Nullable
        JournalGeneration generation;

        @Nullable
        UsageRecord record;
    }
}
