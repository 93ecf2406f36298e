package io.switchboard.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class KeyLimitsTest {

    /**
     * A spend past 9.2 billion USD (a ledger row holds up to 10^12) is a huge spend, not the low 64
     * bits of one: 2e10 USD came out as 1.55 billion USD, and other amounts as a refund.
     */
    @Test
    void aHugeSpendStaysHugeAndOfItsSign() {
        assertThat(KeyLimits.spentNanos(new BigDecimal("0.5"))).isEqualTo(500_000_000L);
        assertThat(KeyLimits.spentNanos(new BigDecimal("20000000000"))).isEqualTo(Long.MAX_VALUE / 4);
        assertThat(KeyLimits.spentNanos(new BigDecimal("-20000000000"))).isEqualTo(-(Long.MAX_VALUE / 4));
        assertThat(KeyLimits.spentNanos(new BigDecimal("999999999999.999999999999")))
                .isEqualTo(Long.MAX_VALUE / 4);
    }

    @Test
    void aBudgetWrittenAsUnlimitedStaysAHugePositiveLimit() {
        // 10 billion USD in nano-USD is past a long: it wrapped to a negative limit, so every request got 402.
        assertThat(KeyLimits.nanos(new BigDecimal("10000000000"))).isEqualTo(Long.MAX_VALUE / 4);
        assertThat(KeyLimits.nanos(new BigDecimal("999999999999.999999"))).isEqualTo(Long.MAX_VALUE / 4);
        assertThat(KeyLimits.nanos(new BigDecimal("5.25"))).isEqualTo(5_250_000_000L);
        assertThat(KeyLimits.nanos(null)).isNull();

        LocalLimitStore store = new LocalLimitStore();
        assertThat(store.reserveNow("k:budget", KeyLimits.nanos(new BigDecimal("10000000000")), 1_000_000L)
                        .granted())
                .isTrue();
    }
}
