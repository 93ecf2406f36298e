package io.switchboard.proxy;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Request limits, {@code gateway.limits.*}.
 *
 * @param maxBodySize the largest request body; larger ones get 413 without being read whole
 * @param maxJsonDepth the deepest nesting of a request body's JSON
 * @param bodyIdleTimeout the longest wait for the next part of a request body (and for its first,
 *     once the request is authenticated); past it the request gets 408 and its connection closes
 */
@ConfigurationProperties("gateway.limits")
public record BodyLimitProperties(
        @DefaultValue("20MB") DataSize maxBodySize,
        @DefaultValue("64") int maxJsonDepth,
        @DefaultValue("30s") Duration bodyIdleTimeout) {

    public BodyLimitProperties {
        if (maxBodySize.toBytes() <= 0) {
            // 0 is nginx's "unlimited"; here it refused every request body with 413.
            throw new IllegalArgumentException("gateway.limits.max-body-size must be positive");
        }
        if (bodyIdleTimeout.isNegative() || bodyIdleTimeout.isZero()) {
            throw new IllegalArgumentException("gateway.limits.body-idle-timeout must be positive");
        }
    }
}
