package io.switchboard.usage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class UsageRecordTest {

    @Test
    void entryIdsAreVersionSevenUuidsThatSortInCreationOrder() {
        String first = UsageRecord.newEntryId();
        long created = System.currentTimeMillis();
        long deadline = created + 1_000;
        while (System.currentTimeMillis() <= created && System.currentTimeMillis() < deadline) {
            Thread.onSpinWait();
        }
        String later = UsageRecord.newEntryId();

        UUID parsed = UUID.fromString(first);
        assertThat(parsed.version()).isEqualTo(7);
        assertThat(parsed.variant()).isEqualTo(2);
        assertThat(parsed.getMostSignificantBits() >>> 16).isBetween(created - 1_000, created);
        // The index on entry_id is a string index: the text form must sort like the creation time.
        assertThat(later).isGreaterThan(first);
    }

    @Test
    void entryIdsCreatedInTheSameMillisecondDiffer() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            ids.add(UsageRecord.newEntryId());
        }
        assertThat(ids).hasSize(10_000);
    }

    @Test
    void aReportedCostCountsOnlyWhenTheLedgerCanStoreIt() {
        // cost_usd is NUMERIC(24, 12): below 10^12 USD. Used by the usage scanner and by settlement.
        assertThat(UsageRecord.reportedCost(new java.math.BigDecimal("999999999999.999999999999")))
                .isNotNull();
        assertThat(UsageRecord.reportedCost(java.math.BigDecimal.ZERO)).isNotNull();
        assertThat(UsageRecord.reportedCost(new java.math.BigDecimal("1e12"))).isNull();
        assertThat(UsageRecord.reportedCost(new java.math.BigDecimal("1e400"))).isNull();
        assertThat(UsageRecord.reportedCost(new java.math.BigDecimal("-0.01"))).isNull();
        assertThat(UsageRecord.reportedCost(null)).isNull();
    }
}
