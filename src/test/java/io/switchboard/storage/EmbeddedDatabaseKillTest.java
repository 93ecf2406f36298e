package io.switchboard.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.Statement;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The crash journal forgets a ledger row as soon as its insert committed, so a committed row must be
 * in an H2 database's file even if the process dies the next instant (H2's default write delay would
 * keep it in memory for up to 500 ms): the embedded database, and one named in spring.r2dbc.url.
 */
class EmbeddedDatabaseKillTest {

    @TempDir
    Path storage;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aRowCommittedToAnH2FileDatabaseSurvivesAKillRightAfterTheCommit(boolean ownUrl) throws Exception {
        String url = ownUrl ? "r2dbc:h2:file:///" + storage.toAbsolutePath().resolve("own") : "";
        DatabaseLocation location = CommitThenDie.location(url, storage);
        try (java.sql.Connection setup = DriverManager.getConnection(location.jdbcUrl(), "sa", "")) {
            setup.createStatement().execute("CREATE TABLE rows_seen (id INT PRIMARY KEY)");
        }

        Process child = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        CommitThenDie.class.getName(),
                        storage.toString(),
                        url)
                .redirectErrorStream(true)
                .redirectOutput(storage.resolve("child.log").toFile())
                .start();
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue())
                .as(
                        "the child halts right after its commit; its output: %s",
                        java.nio.file.Files.readString(storage.resolve("child.log")))
                .isEqualTo(CommitThenDie.KILLED);

        try (java.sql.Connection check = DriverManager.getConnection(location.jdbcUrl(), "sa", "");
                ResultSet count = check.createStatement().executeQuery("SELECT COUNT(*) FROM rows_seen")) {
            count.next();
            assertThat(count.getInt(1)).isEqualTo(CommitThenDie.ROWS);
        }
    }

    /** A process that commits a batch through the gateway's own R2DBC options, then dies without closing. */
    public static final class CommitThenDie {
        static final int ROWS = 500;
        static final int KILLED = 137;

        /** The embedded database under {@code storage} when {@code url} is empty. */
        static DatabaseLocation location(String url, Path storage) {
            return DatabaseLocation.resolve(url, "sa", null, storage);
        }

        public static void main(String[] args) {
            DatabaseLocation location = location(args.length > 1 ? args[1] : "", Path.of(args[0]));
            Connection connection = Mono.from(
                            ConnectionFactories.get(location.r2dbc()).create())
                    .block();
            Mono.from(connection.beginTransaction()).block();
            Statement insert = connection.createStatement("INSERT INTO rows_seen (id) VALUES ($1)");
            for (int i = 0; i < ROWS; i++) {
                insert.bind(0, i);
                if (i < ROWS - 1) {
                    insert.add();
                }
            }
            Flux.from(insert.execute())
                    .flatMap(result -> result.getRowsUpdated())
                    .blockLast();
            Mono.from(connection.commitTransaction()).block();
            // As kill -9: no shutdown hook, no close of the connection or the database.
            Runtime.getRuntime().halt(KILLED);
        }
    }
}
