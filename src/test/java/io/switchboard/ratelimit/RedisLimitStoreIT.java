package io.switchboard.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.switchboard.metrics.GatewayMeters;
import io.switchboard.metrics.MetricsProperties;
import io.switchboard.testing.FaultProxy;
import io.switchboard.testing.RedisTestServer;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The Lua scripts against a real Redis, shared by two store instances as two replicas would. */
class RedisLimitStoreIT {

    private final String prefix = "switchboard-it:" + UUID.randomUUID() + ":";
    private final RedisLimitStore replicaA = new RedisLimitStore(RedisTestServer.url(), Duration.ofSeconds(3), prefix);
    private final RedisLimitStore replicaB = new RedisLimitStore(RedisTestServer.url(), Duration.ofSeconds(3), prefix);

    @AfterEach
    void close() {
        replicaA.close();
        replicaB.close();
    }

    @Test
    void twoReplicasTakingConcurrentlyAdmitExactlyTheLimit() {
        replicaA.ping().block(Duration.ofSeconds(5));
        replicaB.ping().block(Duration.ofSeconds(5));
        List<Boolean> admitted = Flux.range(0, 200)
                .flatMap(i -> (i % 2 == 0 ? replicaA : replicaB).take("key:rpm", 50, Duration.ofMinutes(1), 1), 64)
                .map(LimitStore.Take::allowed)
                .collectList()
                .block(Duration.ofSeconds(20));
        assertThat(admitted).hasSize(200);
        assertThat(admitted.stream().filter(a -> a).count()).isEqualTo(50);
        LimitStore.Take refused =
                replicaA.take("key:rpm", 50, Duration.ofMinutes(1), 1).block(Duration.ofSeconds(5));
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.remaining()).isZero();
        assertThat(refused.retryAfterNanos())
                .isBetween(1L, Duration.ofMinutes(1).toNanos());
    }

    /** A key's rpm lowered from 50 to 10 after it used 50 this minute: nothing more until the refill. */
    @Test
    void anEditedLimitResizesTheSharedBucketAndKeepsWhatWasUsed() {
        replicaA.ping().block(Duration.ofSeconds(5));
        replicaB.ping().block(Duration.ofSeconds(5));
        for (int i = 0; i < 50; i++) {
            assertThat(replicaA.take("edited:rpm", 50, Duration.ofMinutes(1), 1)
                            .block(Duration.ofSeconds(5))
                            .allowed())
                    .isTrue();
        }
        assertThat(replicaB.take("edited:rpm", 10, Duration.ofMinutes(1), 1)
                        .block(Duration.ofSeconds(5))
                        .allowed())
                .as("lowered to 10")
                .isFalse();
        assertThat(replicaA.peek("edited:rpm", 60, Duration.ofMinutes(1))
                        .block(Duration.ofSeconds(5))
                        .remaining())
                .as("raised to 60")
                .isZero();
    }

    @Test
    void tokensAreReconciledBothWays() {
        replicaA.ping().block(Duration.ofSeconds(5));
        LimitStore.Take take =
                replicaA.take("key:tpm", 1000, Duration.ofMinutes(1), 800).block(Duration.ofSeconds(5));
        assertThat(take.allowed()).isTrue();
        assertThat(take.remaining()).isEqualTo(200);
        take.adjust(-700).block(Duration.ofSeconds(5));
        assertThat(replicaA.take("key:tpm", 1000, Duration.ofMinutes(1), 900)
                        .block(Duration.ofSeconds(5))
                        .allowed())
                .isTrue();
    }

    /**
     * Usage 20000 past a full bucket of 10000 a minute: three refills pass before 1000 fit again, and
     * the bucket is kept that long. It once said "retry at the next refill" (a client obeying it was
     * refused again) and forgot the debt after two idle minutes.
     */
    @Test
    void aBucketInDebtSaysHowManyRefillsItNeedsAndIsKeptUntilThen() {
        replicaA.ping().block(Duration.ofSeconds(5));
        replicaB.ping().block(Duration.ofSeconds(5));
        LimitStore.Take take =
                replicaA.take("debt:tpm", 10_000, Duration.ofMinutes(1), 10_000).block(Duration.ofSeconds(5));
        take.adjust(20_000).block(Duration.ofSeconds(5));

        LimitStore.Take refused =
                replicaB.take("debt:tpm", 10_000, Duration.ofMinutes(1), 1_000).block(Duration.ofSeconds(5));

        assertThat(refused.allowed()).isFalse();
        assertThat(refused.remaining()).isZero();
        assertThat(refused.retryAfterNanos())
                .isBetween(
                        Duration.ofMinutes(2).toNanos() + 1,
                        Duration.ofMinutes(3).toNanos());
        assertThat(refused.resetNanos())
                .isBetween(
                        Duration.ofMinutes(2).toNanos() + 1,
                        Duration.ofMinutes(3).toNanos());
        RedisClient client = RedisClient.create(RedisTestServer.url());
        try (var direct = client.connect()) {
            // Kept past the refill that pays the debt off (at most three minutes away).
            assertThat(direct.sync().pttl(prefix + "rl:debt:tpm"))
                    .isGreaterThan(Duration.ofMinutes(3).toMillis());
        } finally {
            client.shutdown();
        }
    }

    @Test
    void concurrencyAndBudgetAreSharedAcrossReplicas() {
        replicaA.ping().block(Duration.ofSeconds(5));
        replicaB.ping().block(Duration.ofSeconds(5));
        LimitStore.Slot a = replicaA.acquire("key", 1).block(Duration.ofSeconds(5));
        assertThat(a.granted()).isTrue();
        assertThat(replicaB.acquire("key", 1).block(Duration.ofSeconds(5)).granted())
                .isFalse();
        a.release().block(Duration.ofSeconds(5));
        assertThat(replicaB.acquire("key", 1).block(Duration.ofSeconds(5)).granted())
                .isTrue();

        LimitStore.Hold hold = replicaA.reserve("key", 1000, 700).block(Duration.ofSeconds(5));
        assertThat(hold.granted()).isTrue();
        assertThat(granted(replicaB, "key", 1000, 700)).isTrue();
        assertThat(granted(replicaB, "key", 1000, 700)).isFalse();
        hold.settle(1000).block(Duration.ofSeconds(5));
        assertThat(granted(replicaA, "key", 1000, 1)).isFalse();
    }

    /** After a restart two replicas may settle the same earlier row: its correction counts once. */
    @Test
    void aRowSettledByTwoReplicasCountsOnce() {
        replicaA.ping().block(Duration.ofSeconds(5));
        replicaB.ping().block(Duration.ofSeconds(5));
        replicaA.spendOnce("once", 300, "entry-1").block(Duration.ofSeconds(5));
        replicaB.spendOnce("once", 300, "entry-1").block(Duration.ofSeconds(5));
        replicaB.spendOnce("once", 50, "entry-2").block(Duration.ofSeconds(5));
        assertThat(granted(replicaA, "once", 351, 1)).as("350 spent of 351").isTrue();
        assertThat(granted(replicaA, "once", 350, 1)).as("350 spent of 350").isFalse();
    }

    /**
     * A request with max_tokens near Long.MAX_VALUE while another holds part of the budget: it is
     * judged like any other (admitted, as the budget is not yet used up, and then the next is
     * refused), not an overflow error of Redis's increment that failed the whole store over.
     */
    @Test
    void anAbsurdReservationIsJudgedNotAnOverflowError() {
        replicaA.ping().block(Duration.ofSeconds(5));
        replicaB.ping().block(Duration.ofSeconds(5));
        LimitStore.Hold small = replicaA.reserve("absurd", 1000, 100).block(Duration.ofSeconds(5));
        assertThat(small.granted()).isTrue();
        LimitStore.Hold absurd =
                replicaB.reserve("absurd", 1000, Long.MAX_VALUE).block(Duration.ofSeconds(5));
        assertThat(absurd.granted()).isTrue();
        assertThat(granted(replicaA, "absurd", 1000, 1)).isFalse();
        absurd.settle(5).block(Duration.ofSeconds(5));
        small.settle(5).block(Duration.ofSeconds(5));
        assertThat(granted(replicaA, "absurd", 1000, 1)).isTrue();
    }

    /**
     * A replica that dies (killed, out of memory) never gives back its slots or settles its holds:
     * they lapse, and the key's other replicas get them back. A slot counter kept them for as long
     * as the key was used, and a reservation held its part of the budget for good (a whole-budget
     * worst case: 402 on every replica from then on).
     */
    @Test
    void slotsAndHoldsOfAReplicaThatDiedLapse() {
        RedisLimitStore dying = new RedisLimitStore(
                RedisTestServer.url(), Duration.ofSeconds(3), prefix, Duration.ofSeconds(3), Duration.ofSeconds(3));
        try {
            dying.ping().block(Duration.ofSeconds(5));
            replicaB.ping().block(Duration.ofSeconds(5));
            assertThat(dying.acquire("crash", 1).block(Duration.ofSeconds(5)).granted())
                    .isTrue();
            assertThat(dying.reserve("crash", 1000, 1000)
                            .block(Duration.ofSeconds(5))
                            .granted())
                    .isTrue();
            assertThat(replicaB.acquire("crash", 1).block(Duration.ofSeconds(5)).granted())
                    .isFalse();
            assertThat(granted(replicaB, "crash", 1000, 1)).isFalse();
        } finally {
            dying.close(); // without a release or a settlement, as a killed process
        }
        Awaitility.await()
                .atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> replicaB.acquire("crash", 1)
                        .block(Duration.ofSeconds(5))
                        .granted());
        assertThat(granted(replicaB, "crash", 1000, 1))
                .as("the dead replica's reservation lapsed")
                .isTrue();
    }

    /**
     * A settlement of a hold that lapsed meanwhile counts its spend, and gives nothing back twice:
     * the reservation made after the lapse stays held.
     */
    @Test
    void aHoldSettledAfterItLapsedCountsItsSpendOnce() {
        RedisLimitStore slow = new RedisLimitStore(
                RedisTestServer.url(), Duration.ofSeconds(3), prefix, Duration.ofSeconds(2), Duration.ofSeconds(2));
        RedisClient client = RedisClient.create(RedisTestServer.url());
        try (StatefulRedisConnection<String, String> direct = client.connect()) {
            slow.ping().block(Duration.ofSeconds(5));
            LimitStore.Hold hold = slow.reserve("lapsed", 400, 400).block(Duration.ofSeconds(5));
            assertThat(hold.granted()).isTrue();
            assertThat(granted(slow, "lapsed", 400, 100))
                    .as("the whole budget held")
                    .isFalse();
            Awaitility.await()
                    .atMost(Duration.ofSeconds(15))
                    .pollInterval(Duration.ofMillis(200))
                    .until(() -> granted(slow, "lapsed", 400, 100));
            assertThat(direct.sync().hget(prefix + "budget:lapsed", "reserved"))
                    .as("the lapsed 400 given back, the new 100 held")
                    .isEqualTo("100");

            hold.settle(250).block(Duration.ofSeconds(5));

            assertThat(direct.sync().hget(prefix + "budget:lapsed", "spent")).isEqualTo("250");
            assertThat(direct.sync().hget(prefix + "budget:lapsed", "reserved"))
                    .as("only the 100 still held")
                    .isEqualTo("100");
        } finally {
            slow.close();
            client.shutdown();
        }
    }

    /**
     * A hold of nothing (a free model, or a request before the first price list arrived) and a hold
     * of a whole huge budget settle like any other: the script once gave their reservation back
     * through a Lua number, which Redis before 7.2 writes as "-0" or "-2.3e+18" and HINCRBY refuses,
     * so the spend was lost and every such settlement failed the store over.
     */
    @Test
    void holdsOfNothingAndOfAWholeHugeBudgetSettleTheirSpend() {
        replicaA.ping().block(Duration.ofSeconds(5));
        replicaB.ping().block(Duration.ofSeconds(5));
        LimitStore.Hold free = replicaA.reserve("free", 1000, 0).block(Duration.ofSeconds(5));
        assertThat(free.granted()).isTrue();
        free.settle(300).block(Duration.ofSeconds(5));
        assertThat(granted(replicaA, "free", 300, 1)).as("300 spent of 300").isFalse();
        assertThat(granted(replicaB, "free", 302, 1))
                .as("300 spent, 1 held, of 302")
                .isTrue();

        long unlimited = KeyLimits.nanos(new java.math.BigDecimal("100000000000"));
        LimitStore.Hold whole =
                replicaA.reserve("huge", unlimited, Long.MAX_VALUE).block(Duration.ofSeconds(5));
        assertThat(whole.granted()).isTrue();
        assertThat(granted(replicaB, "huge", unlimited, 1)).isFalse();
        whole.settle(0).block(Duration.ofSeconds(5));
        assertThat(granted(replicaB, "huge", unlimited, 1))
                .as("the whole reservation given back")
                .isTrue();
    }

    /**
     * A budget written as unlimited, half of it reserved, and a request with an absurd max_tokens:
     * it is judged (half the budget is still free) rather than overflowing Redis's increment, an
     * error that failed the whole store over for every key.
     */
    @Test
    void aLimitSizedReservationBesideAnotherFitsRedisIncrements() {
        replicaA.ping().block(Duration.ofSeconds(5));
        long unlimited = KeyLimits.nanos(new java.math.BigDecimal("100000000000"));
        assertThat(granted(replicaA, "unlimited", unlimited, unlimited / 2)).isTrue();
        assertThat(granted(replicaA, "unlimited", unlimited, Long.MAX_VALUE)).isTrue();
        assertThat(granted(replicaA, "unlimited", unlimited, 1)).isFalse();
    }

    @Test
    void theLedgerSeedCountsWithSettlementsBeforeItAndOnlyTheFirstSeedCounts() {
        replicaA.ping().block(Duration.ofSeconds(5));
        replicaB.ping().block(Duration.ofSeconds(5));
        // A request of this key settles on replica A before replica B has read the ledger.
        LimitStore.Hold early = replicaA.reserve("seeded", 1000, 100).block(Duration.ofSeconds(5));
        early.settle(300).block(Duration.ofSeconds(5));
        replicaB.seed("seeded", 500).block(Duration.ofSeconds(5));
        // Replica A read the same ledger: its seed must not count the past spend twice.
        replicaA.seed("seeded", 500).block(Duration.ofSeconds(5));
        assertThat(granted(replicaA, "seeded", 800, 1))
                .as("300 settled + 500 seeded")
                .isFalse();
        assertThat(granted(replicaB, "seeded", 801, 1)).isTrue();
    }

    @Test
    void spendAndSeedsKeptWhileRedisWasUnreachableReachTheSharedCounterWhenItReturns() throws Exception {
        throughAFaultProxy((proxy, store, direct) -> {
            assertThat(store.degraded()).isFalse();
            store.spend("outage", 100).block(Duration.ofSeconds(5));

            proxy.refuse();
            store.spend("outage", 700).block(Duration.ofSeconds(5));
            store.seed("outage", 50).block(Duration.ofSeconds(5));
            store.spend("outage", 25).block(Duration.ofSeconds(5));
            assertThat(store.degraded()).isTrue();
            assertThat(direct.sync().hget(prefix + "budget:outage", "spent")).isEqualTo("100");

            proxy.pass();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !store.degraded());
            assertThat(direct.sync().hget(prefix + "budget:outage", "spent"))
                    .as("100 before the outage, 700 + 25 settled and 50 seeded during it")
                    .isEqualTo("875");
        });
    }

    /**
     * A replica stopped just as Redis answers again (a rolling deploy during an outage): what it kept
     * is written before it goes. The stop cancelled the probe that would have written it, and the
     * shared budgets never counted that spend.
     */
    @Test
    void spendKeptWhileRedisWasUnreachableIsWrittenByTheStopWhenRedisAnswers() throws Exception {
        throughAFaultProxy((proxy, store, direct) -> {
            store.spend("stopped", 100).block(Duration.ofSeconds(5));
            proxy.refuse();
            store.spend("stopped", 700).block(Duration.ofSeconds(5));
            assertThat(store.degraded()).isTrue();

            proxy.pass();
            store.stop();

            assertThat(direct.sync().hget(prefix + "budget:stopped", "spent"))
                    .as("100 before the outage, 700 during it")
                    .isEqualTo("800");
        });
    }

    @Test
    void budgetsSeededDuringAnOutageNoticeALaterLossOfRedissData() throws Exception {
        throughAFaultProxy((proxy, store, direct) -> {
            proxy.refuse();
            store.seed("late", 50).block(Duration.ofSeconds(5));
            store.markSeeded().block(Duration.ofSeconds(5));
            assertThat(store.degraded()).isTrue();

            proxy.pass();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !store.degraded());
            Awaitility.await()
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> direct.sync().exists(prefix + "budgets-seeded") == 1);
            AtomicBoolean told = new AtomicBoolean();
            store.onSpendLost(() -> told.set(true));

            // Redis loses its data: the store once reserved against the empty counters.
            direct.sync().del(direct.sync().keys(prefix + "*").toArray(String[]::new));

            assertThat(store.reserve("late", 100, 10).block(Duration.ofSeconds(5)))
                    .isSameAs(LimitStore.Hold.UNAVAILABLE);
            assertThat(told).isTrue();
        });
    }

    @Test
    void reservationsAndSlotsSettledDuringAnOutageReachRedisWhenItReturnsAndTheFallBackKnowsTheirSpend()
            throws Exception {
        throughAFaultProxy((proxy, store, direct) -> {
            assertThat(store.degraded()).isFalse();
            // Settled while Redis answers.
            store.reserve("acct", 1000, 300)
                    .block(Duration.ofSeconds(5))
                    .settle(400)
                    .block(Duration.ofSeconds(5));
            // Taken in Redis, given back while it is unreachable.
            LimitStore.Slot slot = store.acquire("acct", 1).block(Duration.ofSeconds(5));
            LimitStore.Hold held = store.reserve("acct", 1000, 200).block(Duration.ofSeconds(5));
            assertThat(slot.granted()).isTrue();
            assertThat(held.granted()).isTrue();

            proxy.refuse();
            held.settle(250).block(Duration.ofSeconds(5));
            slot.release().block(Duration.ofSeconds(5));
            assertThat(store.degraded()).isTrue();
            // The local fall-back starts from the 650 settled through Redis, then settles 300 more.
            LimitStore.Hold local = store.reserve("acct", 1000, 300).block(Duration.ofSeconds(5));
            assertThat(local.granted()).isTrue();
            local.settle(300).block(Duration.ofSeconds(5));
            assertThat(granted(store, "acct", 900, 1))
                    .as("950 spent, of a budget of 900")
                    .isFalse();

            proxy.pass();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !store.degraded());
            Awaitility.await()
                    .atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(direct.sync().hget(prefix + "budget:acct", "spent"))
                            .as("400 before the outage, 250 and 300 settled during it")
                            .isEqualTo("950"));
            assertThat(direct.sync().hget(prefix + "budget:acct", "reserved"))
                    .as("no reservation left behind")
                    .isEqualTo("0");
            assertThat(direct.sync().exists(prefix + "slots:acct"))
                    .as("the slot given back")
                    .isZero();
            assertThat(store.acquire("acct", 1).block(Duration.ofSeconds(5)).granted())
                    .isTrue();
        });
    }

    /**
     * Two replicas, a budget of 1000 with 200 spent when Redis becomes unreachable: each replica may
     * then let the key reach 200 plus half of the 800 left, not the whole budget each.
     */
    @Test
    void duringAnOutageEachReplicaSpendsOnlyItsShareOfTheBudgetLeft() throws Exception {
        throughAFaultProxy(
                java.util.Map.of("gateway.ratelimit.fail-mode", "local", "gateway.ratelimit.replicas", "2"),
                (proxy, store, direct) -> {
                    store.reserve("share", 1000, 100)
                            .block(Duration.ofSeconds(5))
                            .settle(200)
                            .block(Duration.ofSeconds(5));
                    proxy.blackHole(); // bound throughout: no port to take back
                    store.spend("share", 0).block(Duration.ofSeconds(5));
                    Awaitility.await().atMost(Duration.ofSeconds(5)).until(store::degraded);
                    LimitStore.Hold first = store.reserve("share", 1000, 100).block(Duration.ofSeconds(5));
                    assertThat(first.granted()).isTrue();
                    first.settle(350).block(Duration.ofSeconds(5));
                    assertThat(granted(store, "share", 1000, 100))
                            .as("550 spent: under 200 + 800 / 2")
                            .isTrue();
                    store.spend("share", 100).block(Duration.ofSeconds(5));
                    assertThat(granted(store, "share", 1000, 1))
                            .as("650 spent and 100 reserved: past this replica's 600")
                            .isFalse();
                });
    }

    /** fail-mode open admits without limits, but what it spends reaches Redis's counter when it returns. */
    @Test
    void spendAdmittedOpenlyDuringAnOutageReachesRedisWhenItReturns() throws Exception {
        throughAFaultProxy(java.util.Map.of("gateway.ratelimit.fail-mode", "open"), (proxy, store, direct) -> {
            store.reserve("open", 1000, 100)
                    .block(Duration.ofSeconds(5))
                    .settle(100)
                    .block(Duration.ofSeconds(5));
            proxy.blackHole(); // bound throughout: no port to take back
            store.spend("open", 0).block(Duration.ofSeconds(5));
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(store::degraded);
            LimitStore.Hold open = store.reserve("open", 1000, 100).block(Duration.ofSeconds(5));
            assertThat(open.granted()).isTrue();
            open.settle(2000).block(Duration.ofSeconds(5));
            proxy.pass();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !store.degraded());
            Awaitility.await()
                    .atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(direct.sync().hget(prefix + "budget:open", "spent"))
                            .as("100 before the outage, 2000 during it")
                            .isEqualTo("2100"));
            assertThat(granted(store, "open", 1000, 1))
                    .as("the budget is spent")
                    .isFalse();
        });
    }

    /**
     * Redis slower than the command timeout: the acquire times out (the request goes on with the
     * local fall-back) but Redis still runs it later. That slot is given back in Redis, not left
     * taken for an hour (four such stalls locked a max_concurrency=4 key out).
     */
    @Test
    void anAcquireThatTimedOutButRanInRedisIsGivenBack() throws Exception {
        throughAFaultProxy((proxy, store, direct) -> {
            proxy.delay(Duration.ofMillis(500));
            LimitStore.Slot slot = store.acquire("late", 1).block(Duration.ofSeconds(5));
            assertThat(slot.granted()).as("admitted by the fall-back").isTrue();
            assertThat(store.degraded()).isTrue();
            Awaitility.await()
                    .pollDelay(Duration.ofMillis(1500))
                    .atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(direct.sync().zcard(prefix + "slots:late"))
                            .as("the slot the late acquire took in Redis")
                            .isZero());
            slot.release().block(Duration.ofSeconds(5));
        });
    }

    /** The same for a budget reservation: one that timed out but ran in Redis does not stay reserved. */
    @Test
    void aReservationThatTimedOutButRanInRedisIsGivenBack() throws Exception {
        throughAFaultProxy((proxy, store, direct) -> {
            proxy.delay(Duration.ofMillis(500));
            LimitStore.Hold hold = store.reserve("late", 1000, 300).block(Duration.ofSeconds(5));
            assertThat(hold.granted()).as("admitted by the fall-back").isTrue();
            assertThat(store.degraded()).isTrue();
            Awaitility.await()
                    .pollDelay(Duration.ofMillis(1500))
                    .atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(direct.sync().hget(prefix + "budget:late", "reserved"))
                            .as("the reservation the late command made in Redis")
                            .isEqualTo("0"));
            assertThat(direct.sync().zcard(prefix + "holds:late"))
                    .as("hold tokens left")
                    .isZero();
            hold.settle(0).block(Duration.ofSeconds(5));
        });
    }

    /**
     * A settlement whose answer came too late: Redis ran it (spent, reservation given back) while the
     * gateway gave up and kept it for later. Replayed when Redis is back, it must not count again.
     */
    @Test
    void aSettlementThatTimedOutButRanInRedisIsCountedOnce() throws Exception {
        throughAFaultProxy((proxy, store, direct) -> {
            LimitStore.Hold hold = store.reserve("once", 1000, 300).block(Duration.ofSeconds(5));
            assertThat(hold.granted()).isTrue();
            proxy.delay(Duration.ofMillis(500));
            hold.settle(250).block(Duration.ofSeconds(5));
            assertThat(store.degraded()).as("the settlement timed out").isTrue();
            Awaitility.await()
                    .atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(direct.sync().hget(prefix + "budget:once", "spent"))
                            .as("the late settlement ran in Redis")
                            .isEqualTo("250"));

            proxy.pass();
            // Back to shared limits only once what Redis missed was written (the replay first).
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !store.degraded());
            assertThat(direct.sync().hget(prefix + "budget:once", "spent"))
                    .as("spent once, not again by the replay")
                    .isEqualTo("250");
            assertThat(direct.sync().hget(prefix + "budget:once", "reserved")).isEqualTo("0");
        });
    }

    /**
     * A row settled while Redis answered, then settled again by a replica that finds Redis unreachable
     * (after a restart two may resume the same row): kept by its row, the replay counts nothing twice.
     */
    @Test
    void aRowSettledAgainDuringAnOutageCountsOnceWhenRedisReturns() throws Exception {
        throughAFaultProxy((proxy, store, direct) -> {
            store.spendOnce("outage-once", 300, "row-1").block(Duration.ofSeconds(5));
            proxy.blackHole();
            store.spendOnce("outage-once", 300, "row-1").block(Duration.ofSeconds(5));
            store.spendOnce("outage-once", 50, "row-2").block(Duration.ofSeconds(5));
            assertThat(store.degraded()).isTrue();
            proxy.pass();
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !store.degraded());
            assertThat(direct.sync().hget(prefix + "budget:outage-once", "spent"))
                    .as("row-1 once, row-2 once")
                    .isEqualTo("350");
        });
    }

    /** A hold whose token Redis evicted (memory pressure) or lost: its spend still counts, early never late. */
    @Test
    void aSettlementWhoseHoldRedisNoLongerHasStillCountsItsSpend() throws Exception {
        throughAFaultProxy((proxy, store, direct) -> {
            LimitStore.Hold hold = store.reserve("evicted", 1000, 300).block(Duration.ofSeconds(5));
            assertThat(hold.granted()).isTrue();
            // Redis lost the hold (its data lost, or the hold lapsed and was given back).
            List<String> holds = direct.sync().zrange(prefix + "holds:evicted", 0, -1);
            assertThat(holds).hasSize(1);
            assertThat(direct.sync().hdel(prefix + "budget:evicted", "hold:" + holds.get(0)))
                    .isEqualTo(1);
            direct.sync().del(prefix + "holds:evicted");
            hold.settle(250).block(Duration.ofSeconds(5));
            assertThat(direct.sync().hget(prefix + "budget:evicted", "spent")).isEqualTo("250");
        });
    }

    /**
     * Redis answers on Lettuce's own I/O thread; a request's next filters and its proxying must go
     * on where the request is served, not on that one thread shared by every request.
     */
    @Test
    void answersComeBackOnTheEventLoopThatAsked() throws Exception {
        FailoverLimitStore store = new FailoverLimitStore(
                replicaA,
                new Binder(new MapConfigurationPropertySource(java.util.Map.of()))
                        .bindOrCreate("gateway.ratelimit", RateLimitProperties.class),
                null);
        store.start();
        EventLoopGroup serving =
                new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("serving-loop"), NioIoHandler.newFactory());
        try {
            List<Mono<?>> calls = List.of(
                    store.take("loop:rpm", 10, Duration.ofMinutes(1), 1),
                    store.peek("loop:rpm", 10, Duration.ofMinutes(1)),
                    store.acquire("loop", 5),
                    store.reserve("loop", 1000, 10));
            for (Mono<?> call : calls) {
                CompletableFuture<String> answeredOn = new CompletableFuture<>();
                serving.execute(() -> call.subscribe(
                        answer -> answeredOn.complete(Thread.currentThread().getName()),
                        answeredOn::completeExceptionally));
                assertThat(answeredOn.get(5, TimeUnit.SECONDS)).startsWith("serving-loop");
            }
        } finally {
            store.stop();
            serving.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /**
     * A client that leaves while Redis runs its take: the answer comes after the caller stopped
     * waiting, and what the take took is given back, not kept until the bucket's refill.
     */
    @Test
    void tokensTakenForACallerThatLeftAreGivenBack() throws Exception {
        replicaA.ping().block(Duration.ofSeconds(5));
        replicaB.ping().block(Duration.ofSeconds(5));
        EventLoopGroup serving =
                new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("serving-loop"), NioIoHandler.newFactory());
        try {
            // Sent and abandoned in one task of the serving loop: the answer, handed back to that
            // loop, can only come after the caller left.
            serving.submit(() -> replicaA.take("left:tpm", 1000, Duration.ofMinutes(1), 400)
                            .subscribe()
                            .dispose())
                    .get(5, TimeUnit.SECONDS);
            Awaitility.await()
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> replicaB.peek("left:tpm", 1000, Duration.ofMinutes(1))
                                    .block(Duration.ofSeconds(5))
                                    .remaining()
                            == 1000);
        } finally {
            serving.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    @Test
    void failModeOpenAdmitsAndFailModeClosedRefusesWhileRedisIsUnreachable() {
        for (String mode : List.of("open", "closed")) {
            RateLimitProperties properties = new Binder(
                            new MapConfigurationPropertySource(java.util.Map.of("gateway.ratelimit.fail-mode", mode)))
                    .bindOrCreate("gateway.ratelimit", RateLimitProperties.class);
            FailoverLimitStore store = new FailoverLimitStore(
                    new RedisLimitStore("redis://127.0.0.1:1", Duration.ofMillis(100), prefix), properties, null);
            store.start();
            try {
                assertThat(store.degraded()).isTrue();
                boolean open = mode.equals("open");
                List<Boolean> admitted = Flux.range(0, 20)
                        .concatMap(i -> store.take("key:rpm", 10, Duration.ofMinutes(1), 1))
                        .map(LimitStore.Take::allowed)
                        .collectList()
                        .block(Duration.ofSeconds(5));
                assertThat(admitted).as(mode).containsOnly(open);
                assertThat(store.acquire("key", 1).block(Duration.ofSeconds(5)).granted())
                        .as(mode)
                        .isEqualTo(open);
                assertThat(granted(store, "key", 1000, 10)).as(mode).isEqualTo(open);
            } finally {
                store.stop();
            }
        }
    }

    @Test
    void whenRedisIsUnreachableLimitsFallBackToLocalSharesAndSayItInAMetric() {
        RateLimitProperties properties = new Binder(new MapConfigurationPropertySource(
                        java.util.Map.of("gateway.ratelimit.fail-mode", "local", "gateway.ratelimit.replicas", "2")))
                .bindOrCreate("gateway.ratelimit", RateLimitProperties.class);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        GatewayMeters meters = new GatewayMeters(registry, new MetricsProperties(true, 100, 100));
        // Nothing listens on port 1: every connection attempt is refused at once.
        FailoverLimitStore store = new FailoverLimitStore(
                new RedisLimitStore("redis://127.0.0.1:1", Duration.ofMillis(100), prefix), properties, meters);
        store.start();
        try {
            Awaitility.await()
                    .atMost(Duration.ofSeconds(5))
                    .until(() -> registry.get("switchboard.ratelimit.fallback.active")
                                    .gauge()
                                    .value()
                            == 1.0);
            List<Boolean> admitted = Flux.range(0, 20)
                    .concatMap(i -> store.take("key:rpm", 10, Duration.ofMinutes(1), 1))
                    .map(LimitStore.Take::allowed)
                    .collectList()
                    .block(Duration.ofSeconds(5));
            assertThat(admitted.stream().filter(a -> a).count())
                    .as("half of rpm=10 on each of 2 replicas")
                    .isEqualTo(5);
        } finally {
            store.stop();
        }
    }

    /** A test against a fall-back store that reaches Redis through {@code proxy}; {@code direct} reads Redis itself. */
    private interface OutageTest {
        void run(FaultProxy proxy, FailoverLimitStore store, StatefulRedisConnection<String, String> direct)
                throws Exception;
    }

    /** Runs {@code test} with a started store in {@code local} fall-back mode behind a fault proxy. */
    private void throughAFaultProxy(OutageTest test) throws Exception {
        throughAFaultProxy(java.util.Map.of("gateway.ratelimit.fail-mode", "local"), test);
    }

    /** Runs {@code test} with a store started with {@code settings} behind a fault proxy. */
    private void throughAFaultProxy(java.util.Map<String, String> settings, OutageTest test) throws Exception {
        URI redisAddress = URI.create(RedisTestServer.url());
        RateLimitProperties properties = new Binder(new MapConfigurationPropertySource(settings))
                .bindOrCreate("gateway.ratelimit", RateLimitProperties.class);
        RedisClient reader = RedisClient.create(RedisTestServer.url());
        try (FaultProxy proxy = FaultProxy.to(redisAddress.getHost(), redisAddress.getPort());
                StatefulRedisConnection<String, String> direct = reader.connect()) {
            proxy.pass();
            FailoverLimitStore store = new FailoverLimitStore(
                    new RedisLimitStore("redis://127.0.0.1:" + proxy.port(), Duration.ofMillis(200), prefix),
                    properties,
                    null);
            store.start();
            try {
                test.run(proxy, store, direct);
            } finally {
                store.stop();
            }
        } finally {
            reader.shutdown();
        }
    }

    /** Whether {@code store} grants a reservation of {@code amount} against a budget of {@code limit}. */
    private static boolean granted(LimitStore store, String account, long limit, long amount) {
        return store.reserve(account, limit, amount)
                .block(Duration.ofSeconds(5))
                .granted();
    }
}
