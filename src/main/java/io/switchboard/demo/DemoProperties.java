package io.switchboard.demo;

import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The built-in demo upstream, {@code gateway.demo.*}.
 *
 * @param enabled start the demo upstream and route {@code demo/*} models to it; unset means on only
 *     when no provider has an api-key, so a first run without credentials still answers
 * @param firstTokenDelay time before the first token, as a real model spends reading the prompt
 * @param tokenInterval time between two tokens of an answer (streamed or not)
 */
@ConfigurationProperties("gateway.demo")
public record DemoProperties(
        @Nullable Boolean enabled,
        @DefaultValue("200ms") Duration firstTokenDelay,
        @DefaultValue("30ms") Duration tokenInterval) {}
