package io.switchboard.exchange;

import java.math.BigDecimal;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The authenticated data-plane key as later filters, the proxy and the usage records see it. Never
 * holds the secret. Set once by authentication; no second lookup is made for it.
 *
 * @param allowedModels glob patterns; empty means every model
 * @param attribution the key's own attribution, or {@link Attribution#NONE} to use the gateway's
 */
public record CallerKey(
        String id,
        String name,
        List<String> allowedModels,
        @Nullable Long rpm,
        @Nullable Long tpm,
        @Nullable Integer maxConcurrency,
        @Nullable BigDecimal budgetUsd,
        Attribution attribution) {}
