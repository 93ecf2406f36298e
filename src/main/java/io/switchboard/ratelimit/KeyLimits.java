package io.switchboard.ratelimit;

import io.switchboard.exchange.CallerKey;
import java.math.BigDecimal;
import org.jspecify.annotations.Nullable;
import org.springframework.web.server.ServerWebExchange;

/**
 * The limits in force for one caller: the key's own, else the configured defaults. A caller the
 * gateway could not name (no key management configured) is the {@code anonymous} key.
 *
 * @param budgetNanos the budget in nano-USD, so that budget arithmetic is exact integer arithmetic
 */
record KeyLimits(
        String keyId,
        String keyName,
        @Nullable Long rpm,
        @Nullable Long tpm,
        @Nullable Integer maxConcurrency,
        @Nullable Long budgetNanos) {

    static final String ANONYMOUS = "anonymous";
    private static final BigDecimal NANOS = BigDecimal.valueOf(1_000_000_000L);

    private static final String ATTRIBUTE = KeyLimits.class.getName();

    /**
     * The caller's limits, worked out once per exchange (three filters read them: the headers, the
     * rate limits and the budget) and kept in its attributes.
     */
    static KeyLimits of(ServerWebExchange exchange, @Nullable CallerKey caller, RateLimitProperties.Defaults defaults) {
        KeyLimits known = exchange.getAttribute(ATTRIBUTE);
        if (known == null) {
            known = of(caller, defaults);
            exchange.getAttributes().put(ATTRIBUTE, known);
        }
        return known;
    }

    static KeyLimits of(@Nullable CallerKey caller, RateLimitProperties.Defaults defaults) {
        if (caller == null) {
            return new KeyLimits(
                    ANONYMOUS,
                    ANONYMOUS,
                    defaults.rpm(),
                    defaults.tpm(),
                    defaults.maxConcurrency(),
                    nanos(defaults.budgetUsd()));
        }
        return new KeyLimits(
                caller.id(),
                caller.name(),
                caller.rpm() != null ? caller.rpm() : defaults.rpm(),
                caller.tpm() != null ? caller.tpm() : defaults.tpm(),
                caller.maxConcurrency() != null ? caller.maxConcurrency() : defaults.maxConcurrency(),
                nanos(caller.budgetUsd() != null ? caller.budgetUsd() : defaults.budgetUsd()));
    }

    boolean limitsRate() {
        return rpm != null || tpm != null || maxConcurrency != null;
    }

    /**
     * Nano-USD, at most a quarter of {@code Long.MAX_VALUE} (2.3 billion USD): a larger budget,
     * written to mean "unlimited", would otherwise wrap to a negative limit and refuse every request
     * with 402. A quarter, because what is spent plus what is reserved (each reservation at most the
     * limit, granted while the sum is below it) must still fit a long in the stores' sums and in
     * Redis's increments: two reservations of a near-{@code Long.MAX_VALUE} limit overflowed there.
     */
    static @Nullable Long nanos(@Nullable BigDecimal usd) {
        return usd == null ? null : spentNanos(usd);
    }

    private static final BigDecimal MAX_NANOS = BigDecimal.valueOf(Long.MAX_VALUE / 4);

    /**
     * A budget, a spend or a change of one in nano-USD, within the same bound either way: a ledger
     * cost of more than 9.2 billion USD made a long of its low 64 bits, any amount, negative ones
     * included.
     */
    static long spentNanos(BigDecimal usd) {
        return usd.multiply(NANOS).min(MAX_NANOS).max(MAX_NANOS.negate()).longValue();
    }
}
