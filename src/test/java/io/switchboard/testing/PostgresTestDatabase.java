package io.switchboard.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * A PostgreSQL schema of its own for one test class: from Testcontainers when a Docker engine exists,
 * else from the server named by {@code SWITCHBOARD_TEST_POSTGRES} ({@code host:port/database}, user
 * {@code postgres}, trust auth). With the variable set and the server down, {@link #create()} fails
 * rather than skips. Each instance creates a fresh schema and drops it on {@link #close()}, so test
 * classes never see each other's rows.
 */
public final class PostgresTestDatabase implements AutoCloseable {

    public static final String ENV = "SWITCHBOARD_TEST_POSTGRES";

    private static PostgreSQLContainer container;

    private final String hostPortDatabase;
    private final String user;
    private final String password;
    private final String schema;

    private PostgresTestDatabase(String hostPortDatabase, String user, String password) {
        this.hostPortDatabase = hostPortDatabase;
        this.user = user;
        this.password = password;
        this.schema = "sb_"
                + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);
    }

    /** A new, empty schema; fails when {@value #ENV} is set and the server does not answer. */
    public static PostgresTestDatabase create() {
        String configured = System.getenv(ENV);
        PostgresTestDatabase database;
        if (configured != null && !configured.isBlank()) {
            database = new PostgresTestDatabase(configured.strip(), "postgres", "");
        } else if (DockerClientFactory.instance().isDockerAvailable()) {
            PostgreSQLContainer running = container();
            database = new PostgresTestDatabase(
                    running.getHost() + ":" + running.getMappedPort(5432) + "/" + running.getDatabaseName(),
                    running.getUsername(),
                    running.getPassword());
        } else {
            Assumptions.abort("No Docker engine and " + ENV + " is not set: no PostgreSQL to test against");
            throw new IllegalStateException("unreachable");
        }
        database.execute("CREATE SCHEMA " + database.schema);
        return database;
    }

    private static synchronized PostgreSQLContainer container() {
        if (container == null) {
            container = new PostgreSQLContainer("postgres:16-alpine");
            container.start();
        }
        return container;
    }

    public String schema() {
        return schema;
    }

    public String r2dbcUrl() {
        return "r2dbc:postgresql://" + hostPortDatabase + "?schema=" + schema;
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://" + hostPortDatabase + "?currentSchema=" + schema;
    }

    /** The Spring properties that point the gateway at this schema. */
    public Map<String, String> springProperties() {
        return Map.of(
                "spring.r2dbc.url", r2dbcUrl(),
                "spring.r2dbc.username", user,
                "spring.r2dbc.password", password);
    }

    /** The server's host, e.g. for a {@link FaultProxy} in front of it. */
    public String host() {
        return hostPortDatabase.substring(0, hostPortDatabase.indexOf(':'));
    }

    public int port() {
        String hostPort = hostPortDatabase.substring(0, hostPortDatabase.indexOf('/'));
        return Integer.parseInt(hostPort.substring(hostPort.indexOf(':') + 1));
    }

    /** The same properties with the server reached through {@code proxy} (a loopback port). */
    public Map<String, String> springPropertiesThrough(FaultProxy proxy) {
        String database = hostPortDatabase.substring(hostPortDatabase.indexOf('/'));
        return Map.of(
                "spring.r2dbc.url",
                "r2dbc:postgresql://127.0.0.1:" + proxy.port() + database + "?schema=" + schema,
                "spring.r2dbc.username",
                user,
                "spring.r2dbc.password",
                password);
    }

    /** The first column of the first row of a query in this schema, as a number (e.g. a count). */
    public long count(String sql) {
        try (Connection connection =
                        DriverManager.getConnection("jdbc:postgresql://" + hostPortDatabase, user, password);
                Statement statement = connection.createStatement()) {
            statement.execute("SET search_path TO " + schema);
            try (var rows = statement.executeQuery(sql)) {
                rows.next();
                return rows.getLong(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL at " + hostPortDatabase + " failed: " + e.getMessage(), e);
        }
    }

    /** Runs one statement in this schema (through JDBC: for test set-up and checks, not the gateway). */
    public void execute(String sql) {
        try (Connection connection =
                        DriverManager.getConnection("jdbc:postgresql://" + hostPortDatabase, user, password);
                Statement statement = connection.createStatement()) {
            // A schema not created yet is allowed here: PostgreSQL checks the path when it is used.
            statement.execute("SET search_path TO " + schema);
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "PostgreSQL at " + hostPortDatabase + " failed (" + ENV + " set? server up?): " + e.getMessage(),
                    e);
        }
    }

    @Override
    public void close() {
        execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
}
