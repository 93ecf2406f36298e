package io.switchboard.usage;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * The local append-only file that keeps ledger entries the database could not take, one JSON object a
 * line, written and read only by the ledger's writer thread (never on an event loop). Replay renames
 * the file first, so entries spilled during a replay go to a fresh file; a replay that fails keeps its
 * file for the next attempt, and the entry ids make a second replay of the same rows harmless.
 */
final class SpillFile {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Path file;
    private final Path replaying;

    SpillFile(Path file) {
        this.file = file.toAbsolutePath();
        this.replaying = this.file.resolveSibling(this.file.getFileName() + ".replay");
    }

    Path path() {
        return file;
    }

    /** Appends the entries and forces them to disk. */
    void append(List<LedgerEntry> entries) throws IOException {
        if (entries.isEmpty()) {
            return;
        }
        Files.createDirectories(file.getParent());
        boolean torn = endsTorn(file);
        try (var channel = java.nio.channels.FileChannel.open(
                        file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
                BufferedWriter writer =
                        new BufferedWriter(java.nio.channels.Channels.newWriter(channel, StandardCharsets.UTF_8))) {
            if (torn) {
                // A kill or a full disk cut the last append short: end that line, or the first entry
                // appended now would be glued to it and skipped with it at replay.
                writer.write('\n');
            }
            for (LedgerEntry entry : entries) {
                writer.write(JSON.writeValueAsString(entry));
                writer.write('\n');
            }
            writer.flush();
            channel.force(false);
        }
    }

    /** Whether the file's last line is unfinished (its writer was cut off). */
    private static boolean endsTorn(Path path) throws IOException {
        if (!Files.exists(path)) {
            return false;
        }
        try (var channel = java.nio.channels.FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size == 0) {
                return false;
            }
            java.nio.ByteBuffer last = java.nio.ByteBuffer.allocate(1);
            channel.read(last, size - 1);
            return last.get(0) != '\n';
        }
    }

    boolean hasEntries() {
        return nonEmpty(replaying) || nonEmpty(file);
    }

    /**
     * Hands the spilled entries to {@code writer} in batches of {@code batchSize}; the file is deleted
     * only after every batch was taken. A line that cannot be read (a torn last line after a crash) is
     * skipped.
     *
     * @return the number of entries replayed
     */
    long replay(int batchSize, Consumer<List<LedgerEntry>> writer) throws IOException {
        if (!nonEmpty(replaying)) {
            if (!nonEmpty(file)) {
                return 0;
            }
            Files.move(file, replaying, StandardCopyOption.ATOMIC_MOVE);
        }
        Batches batches = new Batches(batchSize, writer);
        read(replaying, batches);
        batches.flush();
        Files.deleteIfExists(replaying);
        return batches.count;
    }

    /** Groups entries into batches of a size and hands each full one (and the last) to the writer. */
    private static final class Batches implements Consumer<LedgerEntry> {
        private final int size;
        private final Consumer<List<LedgerEntry>> writer;
        private List<LedgerEntry> batch;
        private long count;

        Batches(int size, Consumer<List<LedgerEntry>> writer) {
            this.size = size;
            this.writer = writer;
            this.batch = new ArrayList<>(size);
        }

        @Override
        public void accept(LedgerEntry entry) {
            batch.add(entry);
            if (batch.size() >= size) {
                flush();
            }
        }

        void flush() {
            if (!batch.isEmpty()) {
                writer.accept(batch);
                count += batch.size();
                batch = new ArrayList<>(size);
            }
        }
    }

    /** The entry ids of the records spilled to be appended (corrections left out), in both files. */
    Set<String> appendedEntryIds() throws IOException {
        Set<String> ids = new HashSet<>();
        Consumer<LedgerEntry> collect = entry -> {
            if (!entry.correction()) {
                ids.add(entry.record().entryId());
            }
        };
        if (nonEmpty(replaying)) {
            read(replaying, collect);
        }
        if (nonEmpty(file)) {
            read(file, collect);
        }
        return ids;
    }

    /** Each entry of a file in order; a line that cannot be read (a torn last line after a crash) is skipped. */
    private static void read(Path path, Consumer<LedgerEntry> each) throws IOException {
        try (BufferedReader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                LedgerEntry entry;
                try {
                    entry = JSON.readValue(line, LedgerEntry.class);
                } catch (JacksonException torn) {
                    continue;
                }
                each.accept(entry);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static boolean nonEmpty(Path path) {
        try {
            return Files.exists(path) && Files.size(path) > 0;
        } catch (IOException e) {
            return false;
        }
    }
}
