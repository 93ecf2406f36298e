package io.switchboard.usage;

import java.math.BigDecimal;

/**
 * A model's prices in USD per token, as OpenRouter's {@code /models} listing gives them
 * ({@code pricing.prompt}, {@code pricing.completion}).
 */
public record ModelPrice(BigDecimal prompt, BigDecimal completion) {

    public BigDecimal cost(long promptTokens, long completionTokens) {
        return prompt.multiply(BigDecimal.valueOf(promptTokens))
                .add(completion.multiply(BigDecimal.valueOf(completionTokens)));
    }
}
