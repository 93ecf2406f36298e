package io.switchboard.config;

import io.r2dbc.spi.ConnectionFactoryOptions;
import io.switchboard.storage.DatabaseLocation;
import io.switchboard.storage.SchemaMigrations;
import io.switchboard.storage.StorageProperties;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcConnectionDetails;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The database: {@code spring.r2dbc.url} when set (PostgreSQL in production), else an H2 file under
 * {@code gateway.storage.path}. The schema is migrated through JDBC at start-up by {@link
 * SchemaMigrations}; any bean that touches a table depends on that bean.
 */
@Configuration(proxyBeanMethods = false)
class StorageConfiguration {

    @Bean
    DatabaseLocation databaseLocation(R2dbcProperties r2dbc, StorageProperties storage) {
        return DatabaseLocation.resolve(r2dbc.getUrl(), r2dbc.getUsername(), r2dbc.getPassword(), storage.path());
    }

    /** Replaces Spring Boot's reading of {@code spring.r2dbc.url} so the embedded default is a file, not memory. */
    @Bean
    R2dbcConnectionDetails r2dbcConnectionDetails(DatabaseLocation location) {
        ConnectionFactoryOptions options = location.r2dbc();
        return () -> options;
    }

    @Bean(destroyMethod = "close")
    SchemaMigrations schemaMigrations(
            DatabaseLocation location,
            StorageProperties storage,
            @Value("${spring.flyway.url:}") String jdbcUrl,
            @Value("${spring.flyway.user:}") String user,
            @Value("${spring.flyway.password:}") String password) {
        return SchemaMigrations.run(
                location, jdbcUrl, emptyToNull(user), emptyToNull(password), storage.migrationRetryMax());
    }

    /**
     * {@code schema} in {@code /actuator/health} and its readiness group: out of service while the
     * database has not been reachable since start-up (the migrations have not run), up afterwards.
     * Deliberately not a live database check: see {@code management.health.r2dbc} in application.yml.
     */
    @Bean
    HealthIndicator schemaHealthIndicator(SchemaMigrations migrations) {
        return () -> migrations.migrated()
                ? Health.up().build()
                : Health.outOfService().build();
    }

    private static String emptyToNull(String value) {
        return value.isEmpty() ? null : value;
    }
}
