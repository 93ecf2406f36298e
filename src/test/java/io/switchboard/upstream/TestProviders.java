package io.switchboard.upstream;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** A provider's settings for unit tests: one-second timeouts, every model, a small pool. */
public final class TestProviders {

    private TestProviders() {}

    public static ProviderProperties properties(String baseUrl, @Nullable String apiKey, @Nullable StreamUsage usage) {
        return properties(baseUrl, apiKey, usage, List.of());
    }

    /** A provider serving only the model patterns given (none: every model, a catch-all). */
    public static ProviderProperties serving(String baseUrl, List<String> models) {
        return properties(baseUrl, "sk-test", null, models);
    }

    private static ProviderProperties properties(
            String baseUrl, @Nullable String apiKey, @Nullable StreamUsage usage, List<String> models) {
        return new ProviderProperties(
                URI.create(baseUrl),
                apiKey,
                Duration.ofSeconds(1),
                Duration.ofSeconds(1),
                Duration.ofSeconds(1),
                usage,
                models,
                10,
                Duration.ofSeconds(5));
    }
}
