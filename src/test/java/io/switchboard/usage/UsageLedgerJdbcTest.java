package io.switchboard.usage;

/** Every test of {@link UsageLedgerTest} with the rows written through JDBC, as the embedded database's ledger does. */
class UsageLedgerJdbcTest extends UsageLedgerTest {

    @Override
    UsageRowWriter rowWriter() {
        return new JdbcUsageRowWriter(db.jdbcUrl(), db.user(), db.password());
    }
}
