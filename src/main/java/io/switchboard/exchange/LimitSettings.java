package io.switchboard.exchange;

import java.math.BigDecimal;
import org.jspecify.annotations.Nullable;

/** The rule a key's configured limits follow, wherever they are configured: unset means no limit. */
public final class LimitSettings {

    private LimitSettings() {}

    /**
     * Refuses a negative limit, named after {@code prefix}: one (a way to write "unlimited"
     * elsewhere) refused every request it applied to, 429 or 402, for good. The admin API refuses
     * them in its requests too.
     */
    public static void refuseNegative(
            String prefix,
            @Nullable Long rpm,
            @Nullable Long tpm,
            @Nullable Integer maxConcurrency,
            @Nullable BigDecimal budgetUsd) {
        refuse(prefix, "rpm", rpm);
        refuse(prefix, "tpm", tpm);
        refuse(prefix, "max-concurrency", maxConcurrency);
        refuse(prefix, "budget-usd", budgetUsd == null ? null : budgetUsd.signum());
    }

    private static void refuse(String prefix, String name, @Nullable Number value) {
        if (value != null && value.longValue() < 0) {
            throw new IllegalArgumentException(prefix + name + " must not be negative; leave it unset for no limit");
        }
    }
}
