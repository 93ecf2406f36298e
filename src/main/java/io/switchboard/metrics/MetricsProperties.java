package io.switchboard.metrics;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Bounds on metric tags, {@code gateway.metrics.*}: past these counts, new values are reported as
 * {@code other}, so no request can create meters without bound.
 *
 * @param enabled whether the per-request metrics filter runs (off only to measure its cost)
 * @param maxModels distinct model tag values
 * @param maxKeys distinct key name tag values
 */
@ConfigurationProperties("gateway.metrics")
public record MetricsProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("100") int maxModels,
        @DefaultValue("1000") int maxKeys) {}
