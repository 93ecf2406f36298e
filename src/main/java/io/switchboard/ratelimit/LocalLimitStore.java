package io.switchboard.ratelimit;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TokensInheritanceStrategy;
import io.github.bucket4j.local.LocalBucket;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * Limits held by this process. Buckets are Bucket4j's lock-free buckets in a bounded Caffeine cache
 * that forgets a bucket idle for longer than its period (it would be full again anyway, so
 * forgetting it changes nothing), or, for a bucket in debt (usage past its reservation), until the
 * refills have paid the debt off. Concurrency counters exist only while a slot is held. Budget
 * accounts are few (one per key with a budget) and kept.
 */
final class LocalLimitStore implements LimitStore {

    private static final Duration IDLE = Duration.ofMinutes(2);
    /** Debt kept for at most this many periods more: a bound on the expiry's arithmetic, not a limit anyone meets. */
    private static final long MAX_DEBT_PERIODS = 10_000;

    private final Cache<String, LocalBucket> buckets;
    private final ConcurrentHashMap<String, AtomicInteger> slots = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Account> accounts = new ConcurrentHashMap<>();

    LocalLimitStore() {
        this(Ticker.systemTicker());
    }

    /** @param ticker the cache's clock, for tests of how long a bucket is kept */
    LocalLimitStore(Ticker ticker) {
        this.buckets = Caffeine.newBuilder()
                .maximumSize(500_000)
                .expireAfter(Expiry.accessing((String key, LocalBucket bucket) -> keptFor(bucket)))
                .ticker(ticker)
                // The cache's upkeep on the calling event loop, a few entries at a time: on its
                // default executor (the common pool) it woke a pool thread every few requests, a
                // futex call and a context switch on the core the loop runs on.
                .executor(Runnable::run)
                .build();
    }

    /** Idle time before a bucket is forgotten: longer by the periods its debt needs to be paid off. */
    private static Duration keptFor(LocalBucket bucket) {
        long available = bucket.getAvailableTokens();
        if (available >= 0) {
            return IDLE;
        }
        Bandwidth limit = bucket.getConfiguration().getBandwidths()[0];
        long periods = Math.min((-available - 1) / limit.getCapacity() + 1, MAX_DEBT_PERIODS);
        return IDLE.plusNanos(periods * limit.getRefillPeriodNanos());
    }

    @Override
    public Mono<Take> take(String key, long capacity, Duration period, long amount) {
        return Mono.just(takeNow(key, capacity, period, amount));
    }

    @Override
    public Mono<Take> peek(String key, long capacity, Duration period) {
        return Mono.just(peekNow(key, capacity, period));
    }

    LocalTake peekNow(String key, long capacity, Duration period) {
        LocalBucket bucket = buckets.getIfPresent(key);
        if (bucket == null) {
            // Never taken from, or idle past its period: full.
            return new LocalTake(null, true, capacity, 0, 0);
        }
        resize(bucket, capacity, period);
        long available = Math.max(0, bucket.getAvailableTokens());
        long untilFull = available >= capacity
                ? 0
                : bucket.estimateAbilityToConsume(capacity).getNanosToWaitForRefill();
        return new LocalTake(null, true, available, untilFull, 0);
    }

    LocalTake takeNow(String key, long capacity, Duration period, long amount) {
        LocalBucket bucket = buckets.get(
                key, k -> Bucket.builder().addLimit(limit(capacity, period)).build());
        resize(bucket, capacity, period);
        ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(Math.min(amount, capacity));
        return new LocalTake(
                new Held(this, key, bucket),
                probe.isConsumed(),
                probe.getRemainingTokens(),
                probe.getNanosToWaitForReset(),
                probe.getNanosToWaitForRefill());
    }

    /**
     * Sizes the bucket to the key's limit now. When an administrator edited the limit, the same bucket
     * takes the new size and keeps what is left of it (at most the new size): a limit lowered in
     * the middle of a period binds at once, and one raised does not start full. (Each size had a
     * bucket of its own, full when first used.)
     */
    private static void resize(LocalBucket bucket, long capacity, Duration period) {
        if (bucket.getConfiguration().getBandwidths()[0].getCapacity() != capacity) {
            bucket.replaceConfiguration(
                    BucketConfiguration.builder()
                            .addLimit(limit(capacity, period))
                            .build(),
                    TokensInheritanceStrategy.AS_IS);
        }
    }

    private static Bandwidth limit(long capacity, Duration period) {
        return Bandwidth.builder()
                .capacity(capacity)
                .refillIntervally(refillable(capacity, period), period)
                .build();
    }

    /**
     * The tokens given back each period: the limit itself, but at most one per nanosecond, the
     * fastest refill Bucket4j accepts (it throws for more, which failed every request of a key whose
     * limit was set that high, say a tpm of 10^11 meant as "unlimited"). 6 * 10^10 a minute is more
     * than any gateway can serve, so the limit still never binds.
     */
    static long refillable(long capacity, Duration period) {
        return Math.min(capacity, Math.max(1, period.toNanos()));
    }

    /** @param bucket null for the open and closed fall-back answers, which have nothing to adjust */
    record LocalTake(@Nullable Held bucket, boolean allowed, long remaining, long resetNanos, long retryAfterNanos)
            implements Take {
        @Override
        public Mono<Void> adjust(long delta) {
            if (bucket != null) {
                bucket.store().adjust(bucket.key(), bucket.bucket(), delta);
            }
            return Mono.empty();
        }

        /** A take is at most the bucket's size ({@link #takeNow}). */
        @Override
        public long taken(long asked) {
            return bucket == null
                    ? asked
                    : Math.min(
                            asked,
                            bucket.bucket()
                                    .getConfiguration()
                                    .getBandwidths()[0]
                                    .getCapacity());
        }
    }

    /** The bucket a take took from, under its key: what its adjustment applies to. */
    record Held(LocalLimitStore store, String key, LocalBucket bucket) {}

    /**
     * Settles a take with its usage, on the key's bucket: the one taken from, put back if it was
     * forgotten meanwhile (a stream longer than the idle time), so that debt is never dropped. Read
     * once more after the change, so that the bucket's expiry counts the debt.
     */
    private void adjust(String key, LocalBucket taken, long delta) {
        LocalBucket bucket = buckets.get(key, k -> taken);
        if (delta > 0) {
            bucket.consumeIgnoringRateLimits(delta);
        } else if (delta < 0) {
            bucket.addTokens(-delta);
        }
        buckets.getIfPresent(key);
    }

    @Override
    public Mono<Slot> acquire(String key, int max) {
        return Mono.just(acquireNow(key, max));
    }

    Slot acquireNow(String key, int max) {
        boolean[] granted = {false};
        slots.compute(key, (k, held) -> {
            AtomicInteger count = held == null ? new AtomicInteger() : held;
            if (count.get() < max) {
                count.incrementAndGet();
                granted[0] = true;
            }
            return count.get() == 0 ? null : count;
        });
        if (!granted[0]) {
            return Slot.REFUSED;
        }
        return Slot.granted(() -> {
            slots.computeIfPresent(key, (k, count) -> count.decrementAndGet() <= 0 ? null : count);
            return Mono.empty();
        });
    }

    @Override
    public Mono<Hold> reserve(String key, long limit, long amount) {
        return Mono.just(reserveNow(key, limit, amount));
    }

    Hold reserveNow(String key, long limit, long requested) {
        long amount = LimitStore.reservable(limit, requested);
        Account account = accounts.computeIfAbsent(key, k -> new Account());
        if (!account.tryReserve(limit, amount)) {
            return Hold.REFUSED;
        }
        return Hold.granted(actual -> {
            // Spent before the reservation goes: tryReserve reads reserved then spent, and in the
            // other order a reservation between the two steps saw the amount in neither.
            account.spent.addAndGet(actual);
            account.reserved.addAndGet(-amount);
            return Mono.empty();
        });
    }

    @Override
    public Mono<Void> spend(String key, long delta) {
        accounts.computeIfAbsent(key, k -> new Account()).spent.addAndGet(delta);
        return Mono.empty();
    }

    @Override
    public Mono<Void> seed(String key, long spent) {
        Account account = accounts.computeIfAbsent(key, k -> new Account());
        if (account.seeded.compareAndSet(false, true)) {
            account.spent.addAndGet(spent);
        }
        return Mono.empty();
    }

    long spent(String key) {
        Account account = accounts.get(key);
        return account == null ? 0 : account.spent.get();
    }

    private static final class Account {
        final AtomicLong spent = new AtomicLong();
        final AtomicLong reserved = new AtomicLong();
        final AtomicBoolean seeded = new AtomicBoolean();

        /** Granted while spent plus reserved is below the limit; one compare-and-set, no lock. */
        boolean tryReserve(long limit, long amount) {
            while (true) {
                long held = reserved.get();
                long used = spent.get();
                // spent + held >= limit, without a sum that could wrap around
                if (held >= limit || used >= limit - held) {
                    return false;
                }
                if (reserved.compareAndSet(held, held + amount)) {
                    return true;
                }
            }
        }
    }
}
