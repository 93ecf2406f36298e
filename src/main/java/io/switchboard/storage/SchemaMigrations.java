package io.switchboard.storage;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the schema to the newest version at start-up, through JDBC, before any R2DBC repository is
 * used: every bean that reads or writes a table depends on this one. Versions V1-V9 belong to the
 * key tables, V10 and up to usage.
 */
public final class SchemaMigrations {

    private static final Logger log = LoggerFactory.getLogger(SchemaMigrations.class);

    private final MigrateResult result;

    private SchemaMigrations(MigrateResult result) {
        this.result = result;
    }

    /**
     * @param jdbcUrl overrides the URL derived from the R2DBC one ({@code spring.flyway.url})
     */
    public static SchemaMigrations run(
            DatabaseLocation location, @Nullable String jdbcUrl, @Nullable String user, @Nullable String password) {
        boolean overridden = jdbcUrl != null && !jdbcUrl.isBlank();
        Flyway flyway = Flyway.configure()
                .dataSource(
                        overridden ? jdbcUrl : location.jdbcUrl(),
                        overridden ? user : location.username(),
                        overridden ? password : location.password())
                .locations("classpath:db/migration")
                .load();
        MigrateResult result = flyway.migrate();
        log.info(
                "Database schema at version {} ({} migration(s) applied now)",
                result.targetSchemaVersion == null ? result.initialSchemaVersion : result.targetSchemaVersion,
                result.migrationsExecuted);
        return new SchemaMigrations(result);
    }

    public int migrationsExecuted() {
        return result.migrationsExecuted;
    }
}
