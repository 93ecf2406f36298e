package io.switchboard.usage;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger's rows through JDBC, on the writer's own thread: the embedded H2 database's writer.
 * r2dbc-h2 wraps the same in-process engine in Reactor and its codecs: for every batch it parsed the
 * statement again, looked up a codec for every value, bound every string as a temporary CLOB and
 * hopped between threads, about a third of the ledger's CPU (docs/benchmarks.md), on the core the
 * event loop also needs. One connection and two prepared statements, kept for the writer's life, do
 * none of that. Blocking here is the writer thread's job; nothing else calls this.
 *
 * <p>Any failure but a duplicate row closes the connection, and the next call opens a new one: the
 * ledger retries a failed batch with backoff (the table may not be migrated yet, the disk may be full).
 */
public final class JdbcUsageRowWriter implements UsageRowWriter {

    private static final Logger log = LoggerFactory.getLogger(JdbcUsageRowWriter.class);
    private static final String INSERT = UsageRowValues.insertSql(i -> "?");
    private static final String CORRECT = UsageRowValues.correctSql(i -> "?");
    private static final int TIMEOUT_SECONDS = 10;
    private static final String UNIQUE_VIOLATION = "23505";

    private final String url;
    private final @Nullable String user;
    private final @Nullable String password;
    private @Nullable Connection connection;
    private @Nullable Statements statements;

    public JdbcUsageRowWriter(String url, @Nullable String user, @Nullable String password) {
        this.url = url;
        this.user = user;
        this.password = password;
    }

    /**
     * One batch, one commit. A batch refused for a duplicate entry id (a replay of rows that were
     * already written) is written again row by row, skipping the duplicates.
     */
    @Override
    public void insert(List<UsageRecord> records) throws SQLException {
        if (records.isEmpty()) {
            return;
        }
        PreparedStatement statement = statements().insert;
        try {
            for (UsageRecord record : records) {
                bind(statement, UsageRowValues.insertValues(record));
                statement.addBatch();
            }
            confirm(statement.executeBatch(), records.size());
            commit();
        } catch (SQLException e) {
            if (!refused(e)) {
                closeConnection();
                throw e;
            }
            statement.clearBatch();
            rollback();
            insertOneByOne(records);
        }
    }

    private void insertOneByOne(List<UsageRecord> records) throws SQLException {
        for (UsageRecord record : records) {
            PreparedStatement statement = statements().insert;
            try {
                bind(statement, UsageRowValues.insertValues(record));
                statement.executeUpdate();
                commit();
            } catch (SQLException e) {
                if (!refused(e)) {
                    closeConnection();
                    throw e;
                }
                rollback();
                if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
                    // As the R2DBC writer: a row the database refuses would be refused on every retry.
                    log.warn("Usage row {} refused by the database, skipped: {}", record.entryId(), e.toString());
                }
            }
        }
    }

    @Override
    public void correct(UsageRecord record) throws SQLException {
        PreparedStatement statement = statements().correct;
        int updated;
        try {
            bind(statement, UsageRowValues.correctValues(record));
            updated = statement.executeUpdate();
            commit();
        } catch (SQLException e) {
            closeConnection();
            throw e;
        }
        if (updated == 0) {
            insert(List.of(record));
        }
    }

    @Override
    public void close() {
        closeConnection();
    }

    private Statements statements() throws SQLException {
        Statements current = statements;
        if (current == null) {
            Connection opened = DriverManager.getConnection(url, user, password == null ? "" : password);
            connection = opened;
            try {
                opened.setAutoCommit(false);
                current = new Statements(prepare(opened, INSERT), prepare(opened, CORRECT));
            } catch (SQLException e) {
                closeConnection();
                throw e;
            }
            statements = current;
        }
        return current;
    }

    private record Statements(PreparedStatement insert, PreparedStatement correct) {}

    private static PreparedStatement prepare(Connection connection, String sql) throws SQLException {
        PreparedStatement statement = connection.prepareStatement(sql);
        statement.setQueryTimeout(TIMEOUT_SECONDS);
        return statement;
    }

    private static void bind(PreparedStatement statement, @Nullable Object[] values) throws SQLException {
        for (int i = 0; i < values.length; i++) {
            statement.setObject(i + 1, values[i]);
        }
    }

    /** Fails unless the database counted every row of the batch (as the R2DBC writer checks too). */
    private static void confirm(int[] counts, int rows) throws SQLException {
        long updated = 0;
        for (int count : counts) {
            updated += count == PreparedStatement.SUCCESS_NO_INFO ? 1 : count;
        }
        if (counts.length != rows || updated != rows) {
            throw new SQLException("the database confirmed " + updated + " of " + rows + " inserted usage rows");
        }
    }

    private void commit() throws SQLException {
        Connection current = connection;
        if (current != null) {
            current.commit();
        }
    }

    private void rollback() throws SQLException {
        Connection current = connection;
        if (current != null) {
            try {
                current.rollback();
            } catch (SQLException e) {
                closeConnection();
                throw e;
            }
        }
    }

    /** An integrity constraint refused a row (SQL state class 23): a duplicate entry id, mostly. */
    private static boolean refused(SQLException e) {
        String state = e.getSQLState();
        return state != null && state.startsWith("23");
    }

    /** Closes the connection (quietly, rolling back what it had not committed) so that the next call opens a new one. */
    private void closeConnection() {
        Connection current = connection;
        connection = null;
        statements = null;
        if (current != null) {
            try {
                current.rollback();
            } catch (SQLException ignored) {
                // closing anyway
            }
            try {
                current.close();
            } catch (SQLException e) {
                log.debug("Closing the usage ledger's connection failed: {}", e.toString());
            }
        }
    }
}
