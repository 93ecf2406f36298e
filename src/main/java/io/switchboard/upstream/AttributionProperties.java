package io.switchboard.upstream;

import io.switchboard.exchange.Attribution;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The company's app attribution on OpenRouter, {@code gateway.attribution.*}.
 *
 * @param referer sent upstream as {@code HTTP-Referer}
 * @param title sent upstream as {@code X-Title} and {@code X-OpenRouter-Title}
 * @param categories sent upstream as {@code X-OpenRouter-Categories}
 * @param clientOverride when true, a client's own attribution headers win over these
 */
@ConfigurationProperties("gateway.attribution")
public record AttributionProperties(
        @Nullable String referer,
        @Nullable String title,
        @Nullable String categories,
        boolean clientOverride) {

    public AttributionProperties {
        referer = Attribution.configured("gateway.attribution.referer", referer);
        title = Attribution.configured("gateway.attribution.title", title);
        categories = Attribution.configured("gateway.attribution.categories", categories);
    }
}
