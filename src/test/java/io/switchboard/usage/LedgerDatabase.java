package io.switchboard.usage;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The in-memory H2 ledger of the application under test, read over JDBC from the test (same JVM,
 * same named database). Until the keys branch sets up the database for the application, the tests
 * point {@code spring.r2dbc.url} and {@code spring.flyway.url} at it.
 */
final class LedgerDatabase {

    private final String name;

    LedgerDatabase(String name) {
        this.name = name;
    }

    String[] properties() {
        return new String[] {
            "spring.r2dbc.url=r2dbc:h2:mem:///" + name + "?options=DB_CLOSE_DELAY=-1",
            "spring.r2dbc.username=sa",
            "spring.flyway.url=jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1",
            "spring.flyway.user=sa",
        };
    }

    /** The row of a request as column name to value, or null while it is not written. */
    Map<String, Object> row(String requestId) {
        try (Connection connection =
                        DriverManager.getConnection("jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1", "sa", "");
                PreparedStatement statement = connection.prepareStatement("SELECT * FROM usage WHERE request_id = ?")) {
            statement.setString(1, requestId);
            try (ResultSet rows = statement.executeQuery()) {
                if (!rows.next()) {
                    return null;
                }
                Map<String, Object> row = new LinkedHashMap<>();
                for (int i = 1; i <= rows.getMetaData().getColumnCount(); i++) {
                    row.put(rows.getMetaData().getColumnLabel(i).toLowerCase(java.util.Locale.ROOT), rows.getObject(i));
                }
                if (rows.next()) {
                    throw new AssertionError("two ledger rows for request " + requestId);
                }
                return row;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    long count(String sql) {
        try (Connection connection =
                        DriverManager.getConnection("jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1", "sa", "");
                var statement = connection.createStatement();
                ResultSet rows = statement.executeQuery(sql)) {
            rows.next();
            return rows.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
