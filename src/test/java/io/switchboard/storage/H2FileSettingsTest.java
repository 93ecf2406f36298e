package io.switchboard.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The settings the gateway gives an H2 file database are the ones the opened database runs with,
 * read back from H2 itself through the same R2DBC options the gateway serves requests with (a
 * setting H2 does not know by that name would otherwise change nothing without a word).
 */
class H2FileSettingsTest {

    @TempDir
    Path storage;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theOpenedDatabaseWritesEachCommitAtOnceAndKeepsASmallPageCache(boolean ownUrl) {
        String url = ownUrl ? "r2dbc:h2:file:///" + storage.toAbsolutePath().resolve("own") : "";
        DatabaseLocation location = DatabaseLocation.resolve(url, ownUrl ? "sa" : null, null, storage);

        Map<String, String> settings = settingsOf(location);

        assertThat(settings).containsEntry("WRITE_DELAY", "0").containsEntry("CACHE_SIZE", "1024");
        // What the store really holds, in megabytes (16 without the setting).
        assertThat(settings).containsEntry("info.CACHE_MAX_SIZE", "1");
    }

    @Test
    void aSettingAfterTheDatabasePathIsTheOperatorsOwnAndTheDatabaseOpens() {
        String url = "r2dbc:h2:file:///" + storage.toAbsolutePath().resolve("own") + ";WRITE_DELAY=100";
        DatabaseLocation location = DatabaseLocation.resolve(url, "sa", null, storage);

        Map<String, String> settings = settingsOf(location);

        assertThat(settings).containsEntry("WRITE_DELAY", "100").containsEntry("CACHE_SIZE", "1024");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aWriteOnAnInterruptedThreadLeavesTheDatabaseOpen(boolean ownUrl) throws Exception {
        // Reactor interrupts a boundedElastic worker when its task is cancelled (a client that left,
        // a timeout); one such write used to close the database until a restart.
        String url = ownUrl ? "r2dbc:h2:file:///" + storage.toAbsolutePath().resolve("own") : "";
        DatabaseLocation location = DatabaseLocation.resolve(url, ownUrl ? "sa" : null, null, storage);
        io.r2dbc.spi.ConnectionFactory factory = ConnectionFactories.get(location.r2dbc());
        run(factory, "CREATE TABLE notes (id INT PRIMARY KEY)");

        Thread writer = new Thread(() -> {
            Thread.currentThread().interrupt();
            run(factory, "INSERT INTO notes VALUES (1)");
        });
        writer.start();
        writer.join(30_000);

        run(factory, "INSERT INTO notes VALUES (2)");
        assertThat(count(factory)).isEqualTo(2L);
    }

    private static void run(io.r2dbc.spi.ConnectionFactory factory, String sql) {
        Mono.usingWhen(
                        Mono.from(factory.create()),
                        connection -> Flux.from(connection.createStatement(sql).execute())
                                .flatMap(io.r2dbc.spi.Result::getRowsUpdated)
                                .then(),
                        Connection::close)
                .block(Duration.ofSeconds(30));
    }

    private static Long count(io.r2dbc.spi.ConnectionFactory factory) {
        return Mono.usingWhen(
                        Mono.from(factory.create()),
                        connection -> Mono.from(connection
                                        .createStatement("SELECT COUNT(*) AS n FROM notes")
                                        .execute())
                                .flatMap(result -> Mono.from(result.map(row -> row.get("n", Long.class)))),
                        Connection::close)
                .block(Duration.ofSeconds(30));
    }

    /** The settings of the database as opened through the gateway's own R2DBC options. */
    private static Map<String, String> settingsOf(DatabaseLocation location) {
        return Mono.usingWhen(
                        Mono.from(ConnectionFactories.get(location.r2dbc()).create()),
                        H2FileSettingsTest::settings,
                        Connection::close)
                .block(Duration.ofSeconds(30));
    }

    private static Mono<Map<String, String>> settings(Connection connection) {
        return Flux.from(connection
                        .createStatement("SELECT SETTING_NAME, SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS")
                        .execute())
                .flatMap(result -> result.map(row -> Map.entry(
                        String.valueOf(row.get("SETTING_NAME", String.class)),
                        String.valueOf(row.get("SETTING_VALUE", String.class)))))
                .collectMap(Map.Entry::getKey, Map.Entry::getValue);
    }
}
