package io.switchboard.proxy;

import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.context.properties.bind.Name;

/**
 * Model rewriting, {@code gateway.models.*}.
 *
 * @param aliases requested name to upstream name, e.g. {@code gpt-4o-mini: openai/gpt-5-nano}; applied to
 *     {@code model} and to every entry of OpenRouter's {@code models} fallback array
 * @param defaultModel the model used when a request names none; without one such a request gets 400
 */
@ConfigurationProperties("gateway.models")
public record ModelProperties(
        @DefaultValue Map<String, String> aliases,
        @Name("default") @Nullable String defaultModel) {}
