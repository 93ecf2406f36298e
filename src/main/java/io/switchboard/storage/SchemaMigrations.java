package io.switchboard.storage;

import java.net.ConnectException;
import java.sql.SQLException;
import java.time.Duration;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * Brings the schema to the newest version at start-up, through JDBC, before any R2DBC repository is
 * used: every bean that reads or writes a table depends on this one. Versions V1-V9 belong to the
 * key tables, V10 and up to usage
 * (V11 on H2 only).
 *
 * <p>A database that cannot be reached at start-up does not stop the gateway: keys from
 * configuration work, keys that need the database get 503, the usage ledger buffers and spills, and
 * the migrations are retried in the background (backoff up to {@code retryMax}) while the readiness
 * probe reports out of service. Any other migration failure (a broken migration, a schema newer than
 * this version) still stops the start-up: serving on a wrong schema would be worse.
 */
public final class SchemaMigrations implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SchemaMigrations.class);
    private static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    private static final String EVERY_DATABASE = "classpath:db/migration";
    private static final String H2_ONLY = "classpath:db/migration-h2";

    private final Flyway flyway;
    private volatile boolean migrated;
    private volatile @Nullable Disposable retrying;

    private SchemaMigrations(Flyway flyway) {
        this.flyway = flyway;
    }

    /**
     * Flyway for the database at {@code jdbcUrl} with the gateway's migrations: those of every
     * database ({@code db/migration}) and those of H2 alone ({@code db/migration-h2}, kept outside the
     * first folder because Flyway reads a location's subfolders too). Tests migrate through it as well.
     * V11 (a cache of 10000 usage ids) is H2's alone: there each refill of the id cache is a commit
     * and a write of the file, while PostgreSQL caches ids per session, so every connection and
     * replica would take ids from a block of its own and the admin API's newest rows, ordered by id,
     * would no longer be the newest.
     */
    public static FluentConfiguration configure(String jdbcUrl, @Nullable String user, @Nullable String password) {
        FluentConfiguration flyway = Flyway.configure().dataSource(jdbcUrl, user, password);
        return jdbcUrl.startsWith("jdbc:h2:")
                ? flyway.locations(EVERY_DATABASE, H2_ONLY)
                : flyway.locations(EVERY_DATABASE);
    }

    /**
     * @param jdbcUrl overrides the URL derived from the R2DBC one ({@code spring.flyway.url})
     * @param retryMax longest wait between two attempts while the database is unreachable
     */
    public static SchemaMigrations run(
            DatabaseLocation location,
            @Nullable String jdbcUrl,
            @Nullable String user,
            @Nullable String password,
            Duration retryMax) {
        boolean overridden = jdbcUrl != null && !jdbcUrl.isBlank();
        Flyway flyway = configure(
                        overridden ? jdbcUrl : location.jdbcUrl(),
                        overridden ? user : location.username(),
                        overridden ? password : location.password())
                .load();
        SchemaMigrations migrations = new SchemaMigrations(flyway);
        try {
            migrations.migrate();
        } catch (RuntimeException e) {
            if (!unreachable(e)) {
                throw e;
            }
            log.warn(
                    "Database {} unreachable at start-up ({}): starting without it, not ready until the schema is migrated",
                    location,
                    rootCause(e).toString());
            migrations.retryInBackground(retryMax);
        }
        return migrations;
    }

    private void migrate() {
        MigrateResult result = flyway.migrate();
        migrated = true;
        log.info(
                "Database schema at version {} ({} migration(s) applied now)",
                result.targetSchemaVersion == null ? result.initialSchemaVersion : result.targetSchemaVersion,
                result.migrationsExecuted);
    }

    private void retryInBackground(Duration retryMax) {
        // JDBC blocks: on a worker thread, never an event loop.
        retrying = Mono.fromRunnable(this::migrate)
                .subscribeOn(Schedulers.boundedElastic())
                .retryWhen(Retry.backoff(Long.MAX_VALUE, FIRST_RETRY)
                        .maxBackoff(retryMax.compareTo(FIRST_RETRY) < 0 ? FIRST_RETRY : retryMax)
                        .jitter(0.1)
                        .filter(SchemaMigrations::unreachable))
                .subscribe(
                        null,
                        error -> log.error("Database schema migration failed; the gateway stays not ready", error));
    }

    /** Whether the schema is at the newest version (false only while the database has not been reachable since start-up). */
    public boolean migrated() {
        return migrated;
    }

    /**
     * A connection that could not be opened, as opposed to a migration that failed: class 08
     * (connection exception), and PostgreSQL's own refusals of a connection for now: 57P01-57P03
     * (shutting down, or "the database system is starting up") and 53300 (too many connections).
     */
    static boolean unreachable(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof ConnectException) {
                return true;
            }
            if (cause instanceof SQLException sql && sql.getSQLState() != null && refusedForNow(sql.getSQLState())) {
                return true;
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        return false;
    }

    private static boolean refusedForNow(String state) {
        return state.startsWith("08") || state.startsWith("57P0") || state.equals("53300");
    }

    private static Throwable rootCause(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    @Override
    public void close() {
        Disposable current = retrying;
        if (current != null) {
            current.dispose();
        }
    }
}
