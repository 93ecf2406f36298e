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
 * The ledger's rows through JDBC, on the ledger's database thread: the embedded H2 database's writer.
 * r2dbc-h2 wraps the same in-process engine in Reactor and its codecs: for every batch it parsed the
 * statement again, looked up a codec for every value, bound every string as a temporary CLOB and
 * hopped between threads, about a third of the ledger's CPU (docs/benchmarks.md), on the core the
 * event loop also needs. One connection and two prepared statements, kept for the writer's life, do
 * none of that. Blocking here is the database thread's job; nothing else calls this.
 *
 * <p>Any failure but a refused row closes the connection, and the next call opens a new one: the
 * ledger retries a failed batch with backoff (the table may not be migrated yet, the disk may be full).
 */
public final class JdbcUsageRowWriter implements UsageRowWriter {

    private static final Logger log = LoggerFactory.getLogger(JdbcUsageRowWriter.class);
    private static final String INSERT = UsageColumns.insertSql(i -> "?");
    private static final String CORRECT = UsageColumns.correctSql(i -> "?");
    private static final int TIMEOUT_SECONDS = 10;
    /** SQL states: a unique key violated (the row is already stored); the classes of refusals a retry meets again. */
    private static final String DUPLICATE = "23505";

    private static final String INTEGRITY = "23";

    private static final String UNSTORABLE = "22";

    private final String url;
    private final @Nullable String user;
    private final @Nullable String password;
    private @Nullable Session session;

    public JdbcUsageRowWriter(String url, @Nullable String user, @Nullable String password) {
        this.url = url;
        this.user = user;
        this.password = password;
    }

    /**
     * One batch, one commit. A batch refused for one of its rows (a duplicate entry id from a replay
     * of rows already written, or a value the database cannot store) is written again row by row:
     * duplicates are skipped, and a row the database refuses is set aside (counted, logged) rather
     * than failing its batch again at every retry, which would stop the whole ledger behind it.
     */
    @Override
    public int insert(List<UsageRecord> records) throws SQLException {
        if (records.isEmpty()) {
            return 0;
        }
        Session current = session();
        int refused = 0;
        try {
            if (refusal(current, records) != null) {
                for (UsageRecord record : records) {
                    String state = refusal(current, List.of(record));
                    if (state == null) {
                        continue;
                    }
                    if (state.equals(DUPLICATE)) {
                        log.debug("Usage row {} already stored, skipped", record.entryId());
                    } else {
                        refused++;
                        log.error(
                                "Usage row {} of request {} refused by the database (SQL state {}): not stored",
                                record.entryId(),
                                record.requestId(),
                                state);
                    }
                }
            }
        } catch (SQLException e) {
            close();
            throw e;
        }
        return refused;
    }

    @Override
    public void correct(UsageRecord record) throws SQLException {
        Session current = session();
        int updated;
        try {
            bind(current.correct(), UsageColumns.CORRECTION_PARAMETERS, record);
            updated = current.correct().executeUpdate();
            current.connection().commit();
        } catch (SQLException e) {
            close();
            throw e;
        }
        if (updated == 0) {
            insert(List.of(record));
        }
    }

    /** Closes the connection (rolling back what it had not committed); the next call opens a new one. */
    @Override
    public void close() {
        Session current = session;
        session = null;
        if (current != null) {
            try (Connection connection = current.connection()) {
                connection.rollback();
            } catch (SQLException e) {
                log.debug("Closing the usage ledger's connection failed: {}", e.toString());
            }
        }
    }

    /**
     * Appends the rows in one transaction: null when done; else, with none of them appended, the SQL
     * state of a refusal that a retry would meet again: an integrity constraint (class 23, as R2DBC's
     * data-integrity exception: a duplicate entry id) or a value the column cannot hold (class 22).
     * Anything else (the connection, the table) is thrown, for the ledger to retry.
     */
    private static @Nullable String refusal(Session session, List<UsageRecord> records) throws SQLException {
        PreparedStatement insert = session.insert();
        try {
            for (UsageRecord record : records) {
                bind(insert, UsageColumns.APPENDED, record);
                insert.addBatch();
            }
            confirm(insert.executeBatch(), records.size());
            session.connection().commit();
            return null;
        } catch (SQLException e) {
            String state = e.getSQLState();
            if (state == null || !(state.startsWith(INTEGRITY) || state.startsWith(UNSTORABLE))) {
                throw e;
            }
            insert.clearBatch();
            session.connection().rollback();
            return state;
        }
    }

    /** The open connection and its statements, opened (and prepared) when there are none. */
    private Session session() throws SQLException {
        Session current = session;
        if (current == null) {
            Connection connection = DriverManager.getConnection(url, user, password == null ? "" : password);
            try {
                connection.setAutoCommit(false);
                current = new Session(connection, prepare(connection, INSERT), prepare(connection, CORRECT));
            } catch (SQLException e) {
                connection.close();
                throw e;
            }
            session = current;
        }
        return current;
    }

    /** One connection and the two statements prepared on it, opened and closed together. */
    private record Session(Connection connection, PreparedStatement insert, PreparedStatement correct) {}

    private static PreparedStatement prepare(Connection connection, String sql) throws SQLException {
        PreparedStatement statement = connection.prepareStatement(sql);
        statement.setQueryTimeout(TIMEOUT_SECONDS);
        return statement;
    }

    private static void bind(PreparedStatement statement, List<UsageColumns.Column> parameters, UsageRecord record)
            throws SQLException {
        for (int i = 0; i < parameters.size(); i++) {
            statement.setObject(i + 1, parameters.get(i).value().apply(record));
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
}
