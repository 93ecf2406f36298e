package io.switchboard.usage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.util.JsonRecyclerPools;
import tools.jackson.databind.json.JsonMapper;

/**
 * The crash journal's file format, one entry a line, applied in order:
 *
 * <pre>
 * A {admission as JSON}      a request was admitted to the proxy
 * G {entry and generation}   the upstream named its generation (settles the row if the request is cut off)
 * F {usage record as JSON}   it ended with this record, queued for the ledger
 * C entry-id entry-id ...    these rows reached the database (or the spill file): forget them
 * </pre>
 *
 * What is left after the last line is what the database may lack. Lines are appended whole (see
 * {@link JournalSegment}); a kill can leave one cut short, followed by the zero bytes of space it had
 * reserved. Reading treats a zero byte like a newline, ignores the bytes after the last line break,
 * and skips (and counts) a line it cannot read. Files written before {@code G} lines existed replay
 * as they are.
 */
final class JournalFormat {

    /** With a buffer recycler per thread (event loops, the journal's writer), as the usage scanner's. */
    private static final JsonMapper JSON = JsonMapper.builder(JsonFactory.builder()
                    .recyclerPool(JsonRecyclerPools.threadLocalPool())
                    .build())
            .build();

    static final byte ADMITTED = 'A';
    private static final byte GENERATION = 'G';
    private static final byte FINISHED = 'F';
    private static final byte COMMITTED = 'C';

    private JournalFormat() {}

    static void admitted(JournalAdmission admission, ByteArrayOutputStream out) {
        line(ADMITTED, admissionJson(admission), out);
    }

    /** The JSON of an admission line, for {@link JournalSegment#append} with {@link #ADMITTED}. */
    static byte[] admissionJson(JournalAdmission admission) {
        return JSON.writeValueAsBytes(admission);
    }

    static void generation(JournalGeneration generation, ByteArrayOutputStream out) {
        line(GENERATION, JSON.writeValueAsBytes(generation), out);
    }

    static void finished(UsageRecord record, ByteArrayOutputStream out) {
        line(FINISHED, JSON.writeValueAsBytes(record), out);
    }

    static void committed(List<String> entryIds, ByteArrayOutputStream out) {
        if (entryIds.isEmpty()) {
            return;
        }
        out.write(COMMITTED);
        for (String id : entryIds) {
            out.write(' ');
            out.writeBytes(id.getBytes(StandardCharsets.US_ASCII));
        }
        out.write('\n');
    }

    private static void line(byte kind, byte[] json, ByteArrayOutputStream out) {
        out.write(kind);
        out.write(' ');
        out.writeBytes(json);
        out.write('\n');
    }

    /**
     * Applies every complete line of {@code file} (if it exists) to {@code entries}.
     *
     * @return the number of complete lines that could not be read (a torn tail is not counted)
     */
    static int read(Path file, LiveEntries entries) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        // Read whole: the file is bounded by gateway.usage.journal.max-size, and this runs once, at start.
        byte[] bytes = Files.readAllBytes(file);
        int skipped = 0;
        int start = 0;
        for (int end = 0; end < bytes.length; end++) {
            if (bytes[end] != '\n' && bytes[end] != 0) {
                continue;
            }
            if (end > start && !apply(bytes, start, end, entries)) {
                skipped++;
            }
            start = end + 1;
        }
        return skipped;
    }

    private static boolean apply(byte[] bytes, int start, int end, LiveEntries entries) {
        if (end - start < 3 || bytes[start + 1] != ' ') {
            return false;
        }
        int from = start + 2;
        try {
            switch (bytes[start]) {
                case ADMITTED -> entries.admitted(JSON.readValue(bytes, from, end - from, JournalAdmission.class));
                case GENERATION -> entries.generation(JSON.readValue(bytes, from, end - from, JournalGeneration.class));
                case FINISHED -> entries.finished(JSON.readValue(bytes, from, end - from, UsageRecord.class));
                case COMMITTED -> {
                    for (String id : new String(bytes, from, end - from, StandardCharsets.US_ASCII).split(" ")) {
                        if (!id.isEmpty()) {
                            entries.committed(id);
                        }
                    }
                }
                default -> {
                    return false;
                }
            }
            return true;
        } catch (JacksonException | IllegalArgumentException unreadable) {
            return false;
        }
    }
}
