package io.switchboard.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A slot, a budget hold or a token reservation can arrive after its request ended: the answer of
 * the store (Redis, on another thread) lands after the client left and the filter chain's end ran.
 * It is given back at once, not kept by an admission nothing will end again.
 */
class AdmissionTest {

    private final LocalLimitStore store = new LocalLimitStore();
    private final KeyLimits limits = new KeyLimits("key-1", "team-a", null, 100L, 1, 1_000L);

    @Test
    void aSlotArrivingAfterTheEndIsGivenBack() {
        Admission admission = new Admission(limits, store);
        LimitStore.Slot late = store.acquire("key-1", 1).block(Duration.ofSeconds(1));
        assertThat(late.granted()).isTrue();

        admission.ended();
        admission.slot(late);

        assertThat(store.acquire("key-1", 1).block(Duration.ofSeconds(1)).granted())
                .as("max_concurrency 1: the slot is free again")
                .isTrue();
    }

    @Test
    void aBudgetHoldArrivingAfterTheEndIsReleased() {
        Admission admission = new Admission(limits, store);
        LimitStore.Hold late = store.reserve("key-1", 1_000, 1_000).block(Duration.ofSeconds(1));
        assertThat(late.granted()).isTrue();

        admission.ended();
        admission.hold(late);

        assertThat(store.reserve("key-1", 1_000, 1_000)
                        .block(Duration.ofSeconds(1))
                        .granted())
                .as("the whole budget can be held again")
                .isTrue();
    }

    @Test
    void tokensReservedAfterTheEndAreRefunded() {
        Admission admission = new Admission(limits, store);
        LimitStore.Take late =
                store.take("key-1:tpm", 100, Duration.ofMinutes(1), 100).block(Duration.ofSeconds(1));
        assertThat(late.allowed()).isTrue();

        admission.ended();
        admission.tokens(late, 100);

        assertThat(store.peek("key-1:tpm", 100, Duration.ofMinutes(1))
                        .block(Duration.ofSeconds(1))
                        .remaining())
                .isEqualTo(100);
    }
}
