package io.switchboard.storage;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code gateway.storage.*}: where the embedded database keeps its file when {@code spring.r2dbc.url}
 * is not set, and how the schema migrations wait for a database that is down at start-up.
 *
 * @param path directory of the embedded H2 database file ({@code switchboard.mv.db}), kept across restarts
 * @param migrationRetryMax longest wait between two attempts to migrate the schema while the database
 *     is unreachable at start-up (the first retry is after 1 s, then doubling)
 */
@ConfigurationProperties("gateway.storage")
public record StorageProperties(
        @DefaultValue("./data") Path path,
        @DefaultValue("10s") Duration migrationRetryMax) {}
