package io.switchboard.usage;

import java.util.List;

/**
 * Where the usage ledger puts its rows. Called from the ledger's database thread only, so each call
 * returns once the database has confirmed the write (or failed, and then the ledger retries).
 */
public interface UsageRowWriter {

    /**
     * Appends the rows in one transaction; rows whose entry id is already stored are skipped. Returns
     * how many rows the database refused for good (a value it cannot store): those are not stored.
     */
    int insert(List<UsageRecord> records) throws Exception;

    /** Replaces a row's numbers with the upstream's final accounting; inserts the row if it is missing. */
    void correct(UsageRecord record) throws Exception;

    /** Rows through {@code repository} (R2DBC), each call waiting for its write on the calling thread. */
    static UsageRowWriter of(UsageRepository repository) {
        return new ReactiveUsageRowWriter(repository);
    }

    /** Releases what the writer holds; the ledger calls it once it has stopped writing. */
    default void close() {}
}
