package io.switchboard.usage;

import java.math.BigDecimal;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Model prices in USD per token, {@code gateway.pricing.<model>.prompt} / {@code .completion}
 * (a model name with a slash needs brackets: {@code gateway.pricing[openai/gpt-5-nano].prompt}).
 * They override the upstream's {@code /models} listing.
 *
 * @param pricing configured prices by model name, overriding the upstream's listing
 */
@ConfigurationProperties("gateway")
public record PricingProperties(@DefaultValue Map<String, Override> pricing) {

    /**
     * One model's configured prices; either may be left out to keep the listing's.
     *
     * @param prompt USD per prompt token
     * @param completion USD per completion token
     */
    public record Override(
            @Nullable BigDecimal prompt, @Nullable BigDecimal completion) {}
}
