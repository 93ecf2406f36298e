package io.switchboard.upstream;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.bind.DefaultValue;

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
