package io.switchboard.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.r2dbc.spi.ConnectionFactoryOptions;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DatabaseLocationTest {

    @Test
    void withoutAnUrlTheDatabaseIsAnH2FileUnderTheStoragePath() {
        DatabaseLocation location = DatabaseLocation.resolve(null, null, null, Path.of("/var/lib/switchboard"));
        assertThat(location.jdbcUrl())
                .isEqualTo(
                        "jdbc:h2:file:retry:/var/lib/switchboard/switchboard;DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0;CACHE_SIZE=1024");
        assertThat(location.r2dbc().getValue(ConnectionFactoryOptions.DRIVER)).isEqualTo("h2");
        assertThat(location.r2dbc().getValue(ConnectionFactoryOptions.PROTOCOL)).isEqualTo("file");
        assertThat(location.inProcess()).isTrue();
        assertThat(location.r2dbc().getValue(ConnectionFactoryOptions.DATABASE))
                .isEqualTo("retry:/var/lib/switchboard/switchboard");
        // Closed with the connection pool, not by H2's own shutdown hook while the ledger drains.
        assertThat(location.r2dbc().getValue(io.r2dbc.spi.Option.valueOf("options")))
                .isEqualTo("DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0;CACHE_SIZE=1024");
    }

    @Test
    void anH2FilePathThatNamesItsOwnFileSystemKeepsIt() {
        DatabaseLocation own = DatabaseLocation.resolve("r2dbc:h2:file:///nio:/srv/own", null, null, Path.of("unused"));
        assertThat(own.r2dbc().getValue(ConnectionFactoryOptions.DATABASE)).isEqualTo("nio:/srv/own");
        assertThat(DatabaseLocation.interruptSafe("/srv/own")).isEqualTo("retry:/srv/own");
        assertThat(DatabaseLocation.interruptSafe("./data/db")).isEqualTo("retry:./data/db");
        assertThat(DatabaseLocation.interruptSafe("C:/data/db")).isEqualTo("retry:C:/data/db");
    }

    @Test
    void aRelativeStoragePathIsMadeAbsolute() {
        DatabaseLocation location = DatabaseLocation.resolve("", null, null, Path.of("./data"));
        assertThat(location.jdbcUrl())
                .isEqualTo(
                        "jdbc:h2:file:retry:" + Path.of("data").toAbsolutePath().resolve("switchboard")
                                + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0;CACHE_SIZE=1024");
    }

    @Test
    void anH2FileDatabaseOfYourOwnGetsTheSameSettingsUnlessItsOptionsSetThemThemselves() {
        DatabaseLocation plain = DatabaseLocation.resolve("r2dbc:h2:file:////srv/own", null, null, Path.of("unused"));
        assertThat(plain.r2dbc().getValue(io.r2dbc.spi.Option.valueOf("options")))
                .isEqualTo("DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0;CACHE_SIZE=1024");
        assertThat(plain.jdbcUrl())
                .isEqualTo("jdbc:h2:file:retry:/srv/own;DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0;CACHE_SIZE=1024");

        DatabaseLocation otherOptions = DatabaseLocation.resolve(
                "r2dbc:h2:file:////srv/own?options=MAX_LOG_SIZE=8", null, null, Path.of("unused"));
        assertThat(otherOptions.r2dbc().getValue(io.r2dbc.spi.Option.valueOf("options")))
                .isEqualTo("MAX_LOG_SIZE=8;DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0;CACHE_SIZE=1024");

        DatabaseLocation ownCache = DatabaseLocation.resolve(
                "r2dbc:h2:file:////srv/own?options=cache_size=65536", null, null, Path.of("unused"));
        assertThat(ownCache.r2dbc().getValue(io.r2dbc.spi.Option.valueOf("options")))
                .isEqualTo("cache_size=65536;DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0");

        // H2 also takes settings after the path; naming one twice would stop it from opening.
        DatabaseLocation delayInPath =
                DatabaseLocation.resolve("r2dbc:h2:file:////srv/own;write_delay=100", null, null, Path.of("unused"));
        assertThat(delayInPath.jdbcUrl())
                .isEqualTo("jdbc:h2:file:retry:/srv/own;write_delay=100;DB_CLOSE_ON_EXIT=FALSE;CACHE_SIZE=1024");

        DatabaseLocation ownDelay = DatabaseLocation.resolve(
                "r2dbc:h2:file:////srv/own?options=WRITE_DELAY=100", null, null, Path.of("unused"));
        assertThat(ownDelay.jdbcUrl())
                .isEqualTo("jdbc:h2:file:retry:/srv/own;WRITE_DELAY=100;DB_CLOSE_ON_EXIT=FALSE;CACHE_SIZE=1024");
    }

    @Test
    void anH2FileDatabaseOfYourOwnIsClosedByTheGatewayNotByH2sShutdownHookUnlessItsUrlSaysOtherwise() {
        io.r2dbc.spi.Option<Object> options = io.r2dbc.spi.Option.valueOf("options");
        assertThat(DatabaseLocation.resolve("r2dbc:h2:file:////srv/own", null, null, Path.of("unused"))
                        .r2dbc()
                        .getValue(options))
                .asString()
                .startsWith("DB_CLOSE_ON_EXIT=FALSE;");
        // Set by the URL itself (after the path, in its options, or by name): never named twice.
        DatabaseLocation inPath =
                DatabaseLocation.resolve("r2dbc:h2:file:////srv/own;db_close_on_exit=true", null, null, Path.of("x"));
        assertThat(inPath.jdbcUrl())
                .isEqualTo("jdbc:h2:file:retry:/srv/own;db_close_on_exit=true;WRITE_DELAY=0;CACHE_SIZE=1024");
        DatabaseLocation inOptions = DatabaseLocation.resolve(
                "r2dbc:h2:file:////srv/own?options=DB_CLOSE_ON_EXIT=TRUE", null, null, Path.of("x"));
        assertThat(inOptions.jdbcUrl())
                .isEqualTo("jdbc:h2:file:retry:/srv/own;DB_CLOSE_ON_EXIT=TRUE;WRITE_DELAY=0;CACHE_SIZE=1024");
        DatabaseLocation byName =
                DatabaseLocation.resolve("r2dbc:h2:file:////srv/own?DB_CLOSE_ON_EXIT=TRUE", null, null, Path.of("x"));
        assertThat(byName.r2dbc().getValue(options)).isEqualTo("WRITE_DELAY=0;CACHE_SIZE=1024");
        assertThat(byName.jdbcUrl())
                .isEqualTo("jdbc:h2:file:retry:/srv/own;DB_CLOSE_ON_EXIT=TRUE;WRITE_DELAY=0;CACHE_SIZE=1024");
    }

    @Test
    void aPostgresUrlKeepsHostPortDatabaseSchemaAndCredentials() {
        DatabaseLocation location = DatabaseLocation.resolve(
                "r2dbc:postgresql://db.internal:6543/gateway?schema=sb", "app", "s3cret", Path.of("unused"));
        assertThat(location.jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:6543/gateway?currentSchema=sb");
        assertThat(location.username()).isEqualTo("app");
        assertThat(location.password()).isEqualTo("s3cret");
        assertThat(location.r2dbc().getValue(ConnectionFactoryOptions.HOST)).isEqualTo("db.internal");
        assertThat(location.toString()).doesNotContain("s3cret");
        assertThat(location.inProcess()).isFalse();
    }

    @Test
    void thePostgresTlsSettingsAreKeptForMigrations() {
        // The migrations once connected with pgjdbc's default (sslmode=prefer: no certificate check).
        DatabaseLocation location = DatabaseLocation.resolve(
                "r2dbc:postgresql://db/sb?sslMode=verify-full&sslRootCert=/etc/ssl/my%20ca.pem"
                        + "&sslCert=/etc/ssl/client.pem&sslKey=/etc/ssl/client.key",
                null, null, Path.of("unused"));
        assertThat(location.jdbcUrl())
                .isEqualTo("jdbc:postgresql://db/sb?sslmode=verify-full&sslrootcert=%2Fetc%2Fssl%2Fmy+ca.pem"
                        + "&sslcert=%2Fetc%2Fssl%2Fclient.pem&sslkey=%2Fetc%2Fssl%2Fclient.key");
        assertThat(DatabaseLocation.resolve("r2dbc:postgresql://db/sb?ssl=true&schema=s", null, null, Path.of("u"))
                        .jdbcUrl())
                .isEqualTo("jdbc:postgresql://db/sb?currentSchema=s&sslmode=verify-full");
        assertThat(DatabaseLocation.resolve("r2dbc:postgresql://db/sb?sslMode=VERIFY_CA", null, null, Path.of("u"))
                        .jdbcUrl())
                .isEqualTo("jdbc:postgresql://db/sb?sslmode=verify-ca");
    }

    @Test
    void credentialsInTheUrlAreUsedForMigrationsToo() {
        DatabaseLocation location =
                DatabaseLocation.resolve("r2dbc:postgresql://app:pw@127.0.0.1/test", null, null, Path.of("unused"));
        assertThat(location.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1/test");
        assertThat(location.username()).isEqualTo("app");
        assertThat(location.password()).isEqualTo("pw");
    }

    @Test
    void anInMemoryH2UrlStaysInMemory() {
        DatabaseLocation location = DatabaseLocation.resolve("r2dbc:h2:mem:///gw", null, null, Path.of("unused"));
        assertThat(location.jdbcUrl()).isEqualTo("jdbc:h2:mem:gw;DB_CLOSE_DELAY=-1");
        assertThat(location.inProcess()).isTrue();
    }

    @Test
    void anUnsupportedDatabaseIsRefusedAtStartUp() {
        assertThatThrownBy(() -> DatabaseLocation.resolve("r2dbc:mysql://h/db", null, null, Path.of("unused")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("spring.flyway.url");
    }
}
