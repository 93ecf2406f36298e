package io.switchboard.upstream;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.Assert;

/**
 * One OpenAI-compatible upstream, {@code gateway.providers.<name>.*}.
 *
 * @param baseUrl the upstream's API root, e.g. {@code https://openrouter.ai/api/v1}
 * @param apiKey the credential sent upstream as {@code Authorization: Bearer ...}; never logged
 * @param connectTimeout TCP connect limit
 * @param responseTimeout limit until the upstream's response headers (504 past it)
 * @param idleTimeout longest silence inside an answer (an error event ends the stream past it)
 * @param streamUsage whether the provider ends streams with usage on its own; default: {@code always}
 *     for {@code openrouter}, {@code on-request} for the others
 * @param models glob patterns of the models this provider serves; empty means any model
 * @param maxConnections the connection pool's size, per event loop (each loop that serves clients keeps
 *     its own pool of upstream connections): one connection per concurrent stream
 * @param maxIdleTime how long a pooled connection may sit idle; keep it below the upstream's
 *     keep-alive so a request never picks a connection the upstream already closed
 */
public record ProviderProperties(
        @Nullable URI baseUrl,
        @Nullable String apiKey,
        @DefaultValue("5s") Duration connectTimeout,
        @DefaultValue("120s") Duration responseTimeout,
        @DefaultValue("300s") Duration idleTimeout,
        @Nullable StreamUsage streamUsage,
        @DefaultValue List<String> models,
        @DefaultValue("10000") int maxConnections,
        @DefaultValue("20s") Duration maxIdleTime) {

    /**
     * Refuses at start what would fail every request later: a timeout of 0 answered every call
     * 504, and a base URL without a scheme (a {@code localhost:11434/v1} typo) every call 502.
     */
    public ProviderProperties {
        Assert.isTrue(
                baseUrl == null
                        || (("http".equals(baseUrl.getScheme()) || "https".equals(baseUrl.getScheme()))
                                && baseUrl.getHost() != null),
                // Not echoed: the value may hold credentials (user:secret@) or a key in its query.
                "base-url must be an absolute http or https URL with a host");
        // Each call's URL is the base URL's origin and path and the operation: credentials in it were
        // never sent (and were logged at start), a query or fragment never either. Not echoed.
        Assert.isTrue(
                baseUrl == null
                        || (baseUrl.getRawUserInfo() == null
                                && baseUrl.getRawQuery() == null
                                && baseUrl.getRawFragment() == null),
                "base-url must not hold credentials (set api-key), a query or a fragment");
        Assert.isTrue(isPositive(connectTimeout), "connect-timeout must be more than 0");
        Assert.isTrue(isPositive(responseTimeout), "response-timeout must be more than 0");
        // 0 turned the limit off: a stream gone silent upstream was held open for good, its client
        // kept waiting by the heartbeats.
        Assert.isTrue(isPositive(idleTimeout), "idle-timeout must be more than 0");
        Assert.isTrue(maxConnections > 0, "max-connections must be at least 1");
    }

    private static boolean isPositive(Duration duration) {
        return duration.compareTo(Duration.ZERO) > 0;
    }

    public boolean hasApiKey() {
        return apiKey != null && !apiKey.isBlank();
    }

    /** Hides the credential: configuration dumps and error messages print this. */
    @Override
    public String toString() {
        return "ProviderProperties[baseUrl=" + baseUrl + ", apiKey=" + (hasApiKey() ? "*****" : "none")
                + ", connectTimeout=" + connectTimeout + ", responseTimeout=" + responseTimeout
                + ", idleTimeout=" + idleTimeout + ", streamUsage=" + streamUsage + ", models=" + models + "]";
    }
}
