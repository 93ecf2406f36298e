package io.switchboard.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class KeyLimitsTest {

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
