package io.switchboard.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LocalLimitStoreTest {

    private final LocalLimitStore store = new LocalLimitStore();

    /**
     * Runs {@code task} on {@code n} threads released together: each waits at the start until all
     * are ready, so the calls race as a burst of requests would.
     */
    private static <T> List<T> concurrently(int n, Callable<T> task) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        CountDownLatch ready = new CountDownLatch(n);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                futures.add(pool.submit(() -> {
                    ready.countDown();
                    if (!go.await(10, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("never released");
                    }
                    return task.call();
                }));
            }
            assertThat(ready.await(10, TimeUnit.SECONDS))
                    .as("all %d threads at the start", n)
                    .isTrue();
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> future : futures) {
                results.add(future.get(10, TimeUnit.SECONDS));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aPeekReportsTheBucketAsItStandsAndTakesNothing() {
        Duration minute = Duration.ofMinutes(1);
        LocalLimitStore.LocalTake untouched = store.peekNow("k:rpm", 10, minute);
        assertThat(untouched.remaining()).isEqualTo(10);
        assertThat(untouched.resetNanos()).isZero();

        store.takeNow("k:rpm", 10, minute, 3);
        LocalLimitStore.LocalTake afterTake = store.peekNow("k:rpm", 10, minute);
        LocalLimitStore.LocalTake again = store.peekNow("k:rpm", 10, minute);

        assertThat(afterTake.remaining()).isEqualTo(7);
        assertThat(again.remaining()).isEqualTo(7);
        assertThat(afterTake.resetNanos()).isBetween(1L, minute.toNanos());
        assertThat(store.takeNow("k:rpm", 10, minute, 1).remaining()).isEqualTo(6);
    }

    /**
     * An administrator lowers an abusive key's rpm from 50 to 10 after it used 50 this minute: it
     * gets nothing more until the bucket refills (a bucket of the new size used to start full, and
     * gave 10 more at once); raised to 60, it does not start full either.
     */
    @Test
    void anEditedLimitResizesTheBucketAndKeepsWhatWasUsed() {
        Duration minute = Duration.ofMinutes(1);
        for (int i = 0; i < 50; i++) {
            assertThat(store.takeNow("k:rpm", 50, minute, 1).allowed()).isTrue();
        }
        assertThat(store.takeNow("k:rpm", 10, minute, 1).allowed())
                .as("lowered to 10")
                .isFalse();
        assertThat(store.peekNow("k:rpm", 60, minute).remaining())
                .as("raised to 60")
                .isZero();
        assertThat(store.takeNow("k:rpm", 60, minute, 1).allowed()).isFalse();
    }

    @Test
    void twoHundredConcurrentTakesFromAFiftyPerMinuteBucketAdmitExactlyFifty() throws Exception {
        List<Boolean> admitted = concurrently(
                200, () -> store.takeNow("k:rpm", 50, Duration.ofMinutes(1), 1).allowed());
        assertThat(admitted.stream().filter(a -> a).count()).isEqualTo(50);
    }

    @Test
    void aRefusedTakeSaysWhenToRetryAndWhatRemains() {
        LimitStore.Take first = store.takeNow("k:tpm", 100, Duration.ofMinutes(1), 60);
        assertThat(first.allowed()).isTrue();
        assertThat(first.remaining()).isEqualTo(40);
        assertThat(first.resetNanos()).isPositive();
        LimitStore.Take second = store.takeNow("k:tpm", 100, Duration.ofMinutes(1), 60);
        assertThat(second.allowed()).isFalse();
        assertThat(second.retryAfterNanos()).isBetween(1L, Duration.ofMinutes(1).toNanos());
        // Reconciliation: the first request used 10 tokens, not 60.
        first.adjust(-50).block(Duration.ofSeconds(1));
        assertThat(store.takeNow("k:tpm", 100, Duration.ofMinutes(1), 60).allowed())
                .isTrue();
    }

    @Test
    void aBucketInDebtSaysHowManyRefillsItNeeds() {
        LimitStore.Take take = store.takeNow("debt:tpm", 10_000, Duration.ofMinutes(1), 10_000);
        take.adjust(20_000).block(Duration.ofSeconds(1));

        LimitStore.Take refused = store.takeNow("debt:tpm", 10_000, Duration.ofMinutes(1), 1_000);

        assertThat(refused.allowed()).isFalse();
        assertThat(refused.retryAfterNanos())
                .isBetween(
                        Duration.ofMinutes(2).toNanos() + 1,
                        Duration.ofMinutes(3).toNanos());
    }

    @Test
    void aTakeLargerThanTheBucketTakesTheWholeBucketAndSaysSo() {
        // A replica's share while Redis is down: 5000 of a limit of 10000 on two replicas. The filter
        // once counted the 8000 asked as reserved, so usage of 8000 charged nothing more and a refund
        // gave back 3000 tokens never taken.
        LimitStore.Take take = store.takeNow("share:tpm", 5_000, Duration.ofMinutes(1), 8_000);

        assertThat(take.allowed()).isTrue();
        assertThat(take.taken(8_000)).isEqualTo(5_000);
        take.adjust(8_000 - take.taken(8_000)).block(Duration.ofSeconds(1));
        assertThat(store.peekNow("share:tpm", 5_000, Duration.ofMinutes(1)).remaining())
                .isZero();
        assertThat(store.takeNow("share:tpm", 5_000, Duration.ofMinutes(1), 1).retryAfterNanos())
                .as("3000 of debt: the next refill pays it")
                .isBetween(1L, Duration.ofMinutes(1).toNanos());
    }

    @Test
    void aBucketInDebtIsKeptUntilItsRefillsPayItOff() {
        // The cache's clock alone moves on: Bucket4j's own refills (on the system clock) do not
        // happen, so the debt stays and only whether the bucket was kept decides the answer.
        AtomicLong now = new AtomicLong();
        LocalLimitStore kept = new LocalLimitStore(now::get);
        LimitStore.Take take = kept.takeNow("debt:tpm", 10_000, Duration.ofMinutes(1), 10_000);
        take.adjust(20_000).block(Duration.ofSeconds(1));

        // Past the idle time that forgets a bucket without debt (two minutes): it was once forgotten,
        // and the key started again with a full bucket.
        now.addAndGet(Duration.ofMinutes(3).toNanos());

        assertThat(kept.takeNow("debt:tpm", 10_000, Duration.ofMinutes(1), 1_000)
                        .allowed())
                .isFalse();
    }

    @Test
    void aBucketWithoutDebtIsForgottenWhenIdle() {
        AtomicLong now = new AtomicLong();
        LocalLimitStore idle = new LocalLimitStore(now::get);
        idle.takeNow("idle:rpm", 10, Duration.ofMinutes(1), 10);

        now.addAndGet(Duration.ofMinutes(3).toNanos());

        assertThat(idle.takeNow("idle:rpm", 10, Duration.ofMinutes(1), 10).allowed())
                .isTrue();
    }

    @Test
    void aLimitAboveOneTokenPerNanosecondAdmitsInsteadOfFailing() {
        // 10^11 tokens a minute: more than Bucket4j can refill, which made every request fail.
        LimitStore.Take take = store.takeNow("k:tpm", 100_000_000_000L, Duration.ofMinutes(1), 5_000);

        assertThat(take.allowed()).isTrue();
        assertThat(take.remaining()).isEqualTo(100_000_000_000L - 5_000);
    }

    @Test
    void concurrencySlotsAreReleasedAndTheCounterIsForgotten() throws Exception {
        List<LimitStore.Slot> slots = concurrently(10, () -> store.acquireNow("k", 3));
        List<LimitStore.Slot> granted =
                slots.stream().filter(LimitStore.Slot::granted).toList();
        assertThat(granted).hasSize(3);
        granted.forEach(slot -> slot.release().block(Duration.ofSeconds(1)));
        assertThat(store.acquireNow("k", 3).granted()).isTrue();
    }

    @Test
    void budgetAdmitsWhileSpentPlusReservedIsBelowTheLimitAndSettlesTheRealCost() {
        LimitStore.Hold a = store.reserveNow("k", 100, 60);
        LimitStore.Hold b = store.reserveNow("k", 100, 60);
        LimitStore.Hold c = store.reserveNow("k", 100, 60);
        assertThat(a.granted()).isTrue();
        assertThat(b.granted())
                .as("40 of budget unreserved: one more worst case may overshoot")
                .isTrue();
        assertThat(c.granted()).isFalse();
        a.settle(10).block(Duration.ofSeconds(1));
        b.settle(0).block(Duration.ofSeconds(1));
        assertThat(store.spent("k")).isEqualTo(10);
        assertThat(store.reserveNow("k", 100, 60).granted()).isTrue();
        store.spend("k", 200).block(Duration.ofSeconds(1));
        assertThat(store.reserveNow("k", 100, 1).granted()).isFalse();
    }

    @Test
    void theLedgerSeedIsAddedToSpendSettledBeforeItAndASecondSeedIsIgnored() {
        LimitStore.Hold early = store.reserveNow("k", 1000, 100);
        early.settle(300).block(Duration.ofSeconds(1));
        store.seed("k", 500).block(Duration.ofSeconds(1));
        store.seed("k", 500).block(Duration.ofSeconds(1));
        assertThat(store.spent("k")).isEqualTo(800);
        assertThat(store.reserveNow("k", 800, 1).granted()).isFalse();
        assertThat(store.reserveNow("k", 801, 1).granted()).isTrue();
    }

    /** max_tokens near Long.MAX_VALUE asks for a reservation that large: the next request must still be judged. */
    @Test
    void anAbsurdReservationDoesNotWrapTheBudgetAroundForTheNextRequests() {
        store.spend("acct", 10).block();
        LimitStore.Hold absurd = store.reserveNow("acct", 1_000, Long.MAX_VALUE);
        assertThat(absurd.granted()).isTrue();
        assertThat(store.reserveNow("acct", 1_000, 1).granted())
                .as("a request while the absurd one holds the budget")
                .isFalse();
        absurd.settle(20).block();
        assertThat(store.reserveNow("acct", 1_000, 1).granted()).isTrue();
    }
}
