package io.switchboard.storage;

import java.nio.file.Path;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code gateway.storage.*}: where the embedded database keeps its file when {@code spring.r2dbc.url}
 * is not set.
 *
 * @param path directory of the embedded H2 database file ({@code switchboard.mv.db}), kept across restarts
 */
@ConfigurationProperties("gateway.storage")
public record StorageProperties(@DefaultValue("./data") Path path) {}
