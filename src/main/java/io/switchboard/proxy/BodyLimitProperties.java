package io.switchboard.proxy;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Request limits, {@code gateway.limits.*}.
 *
 * @param maxBodySize the largest request body; larger ones get 413 without being read whole
 * @param maxJsonDepth the deepest nesting of a request body's JSON
 */
@ConfigurationProperties("gateway.limits")
public record BodyLimitProperties(
        @DefaultValue("20MB") DataSize maxBodySize,
        @DefaultValue("64") int maxJsonDepth) {}
