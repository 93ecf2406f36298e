package io.switchboard.usage;

/**
 * What the ledger writer does with a record: append it, or correct the row it appended earlier
 * (settlement).
 */
record LedgerEntry(UsageRecord record, boolean correction) {}
