package io.switchboard.usage;

import io.r2dbc.h2.H2ConnectionConfiguration;
import io.r2dbc.h2.H2ConnectionFactory;
import io.r2dbc.postgresql.PostgresqlConnectionConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionFactory;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.switchboard.storage.DatabaseLocation;
import io.switchboard.storage.SchemaMigrations;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * Migrated databases for the usage tests: an H2 in-memory database of its own per call, or a
 * schema of its own on PostgreSQL ({@code SWITCHBOARD_TEST_POSTGRES=host:port/db} when set, and then
 * a server that is down fails the test; else Testcontainers).
 */
final class TestDatabases {

    private static PostgreSQLContainer container;

    private TestDatabases() {}

    /** A database: its R2DBC factory, and a JDBC URL for test-side statements. */
    record Database(ConnectionFactory connections, String jdbcUrl, String user, String password, String schema) {

        /** Drops a PostgreSQL test schema; an H2 database goes with the JVM. */
        void drop() {
            if (jdbcUrl.startsWith("jdbc:postgresql:")) {
                execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }

        void execute(String sql) {
            try (Connection connection = DriverManager.getConnection(jdbcUrl, user, password);
                    Statement statement = connection.createStatement()) {
                statement.execute(sql);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }

        long count(String sql) {
            try (Connection connection = DriverManager.getConnection(jdbcUrl, user, password);
                    Statement statement = connection.createStatement();
                    var rows = statement.executeQuery(sql)) {
                rows.next();
                return rows.getLong(1);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    static Database h2() {
        String name = "usage_" + UUID.randomUUID().toString().replace("-", "");
        String jdbc = "jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1";
        SchemaMigrations.configure(jdbc, "sa", "").load().migrate();
        ConnectionFactory connections = new H2ConnectionFactory(H2ConnectionConfiguration.builder()
                .url("mem:" + name + ";DB_CLOSE_DELAY=-1")
                .username("sa")
                .build());
        return new Database(connections, jdbc, "sa", "", "PUBLIC");
    }

    /** The embedded database as the gateway opens it (a file under {@code storage}, its own settings), migrated. */
    static Database h2File(Path storage) {
        DatabaseLocation location = DatabaseLocation.resolve(null, null, null, storage);
        SchemaMigrations.configure(location.jdbcUrl(), location.username(), location.password())
                .load()
                .migrate();
        return new Database(
                ConnectionFactories.get(location.r2dbc()), location.jdbcUrl(), location.username(), "", "PUBLIC");
    }

    static Database postgres() {
        String host;
        int port;
        String database;
        String user;
        String target = System.getenv("SWITCHBOARD_TEST_POSTGRES");
        if (target != null && !target.isBlank()) {
            String[] hostAndDb = target.split("/", 2);
            String[] hostPort = hostAndDb[0].split(":", 2);
            host = hostPort[0];
            port = hostPort.length > 1 ? Integer.parseInt(hostPort[1]) : 5432;
            database = hostAndDb.length > 1 ? hostAndDb[1] : "test";
            user = "postgres";
        } else {
            Assumptions.assumeTrue(
                    DockerClientFactory.instance().isDockerAvailable(),
                    "No Docker engine and SWITCHBOARD_TEST_POSTGRES is not set: no PostgreSQL to test against");
            synchronized (TestDatabases.class) {
                if (container == null) {
                    container = new PostgreSQLContainer("postgres:16-alpine");
                    container.start();
                }
            }
            host = container.getHost();
            port = container.getMappedPort(5432);
            database = container.getDatabaseName();
            user = container.getUsername();
        }
        String schema =
                "usage_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String jdbc = "jdbc:postgresql://" + host + ":" + port + "/" + database + "?currentSchema=" + schema;
        String password = container != null && target == null ? container.getPassword() : "";
        SchemaMigrations.configure(jdbc, user, password)
                .schemas(schema)
                .createSchemas(true)
                .load()
                .migrate();
        ConnectionFactory connections = new PostgresqlConnectionFactory(PostgresqlConnectionConfiguration.builder()
                .host(host)
                .port(port)
                .database(database)
                .username(user)
                .password(password)
                .schema(schema)
                .build());
        return new Database(connections, jdbc, user, password, schema);
    }
}
