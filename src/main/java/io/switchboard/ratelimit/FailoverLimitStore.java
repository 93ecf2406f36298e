package io.switchboard.ratelimit;

import io.switchboard.exchange.Timeouts;
import io.switchboard.metrics.GatewayMeters;
import io.switchboard.ratelimit.RateLimitProperties.FailMode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Redis-backed limits that survive Redis failing. The first failed command switches every limit to
 * the fall-back mode ({@code local}: this replica's own buckets with each limit divided by the
 * replica count, so the replicas together stay near the limit; {@code open}: admit; {@code closed}:
 * refuse), logs it once and raises {@code switchboard_ratelimit_fallback_active}. A probe pings
 * Redis every second while it is down and switches back when it answers.
 *
 * <p>Spend settled and ledger seeds applied while Redis could not take them are kept (summed per
 * account) and written to Redis when it answers again, before the store switches back: otherwise
 * the shared budget counters would forget what was spent during the outage and let a budget be
 * spent again. A command that timed out may still have reached Redis; its replay then counts twice,
 * which errs towards refusing early, never towards overspending.
 *
 * <p>Every settlement also reaches this replica's own accounts, whichever store held the
 * reservation, so that the local fall-back starts from the whole spend this replica knows of; a
 * settlement made in the fall-back is kept for Redis like any spend. A concurrency slot or a budget
 * reservation taken in Redis whose release fails is kept too and given back when Redis answers,
 * instead of holding the key's slot or a part of its budget in Redis until they lapse (an hour, a day).
 */
final class FailoverLimitStore implements LimitStore, SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(FailoverLimitStore.class);
    private static final Duration PROBE_EVERY = Duration.ofSeconds(1);

    private final RedisLimitStore redis;
    private final LocalLimitStore local = new LocalLimitStore();
    private final FailMode mode;
    private final int replicas;
    private final Duration timeout;
    private final @Nullable GatewayMeters meters;
    private final ConcurrentHashMap<String, Long> unsharedSpend = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Long> unsharedSeeds = new ConcurrentHashMap<>();
    /** Per account, the spend this replica knew when the outage began; emptied when Redis answers. */
    private final ConcurrentHashMap<String, Long> spentAtOutage = new ConcurrentHashMap<>();

    private volatile boolean degraded = true;
    private volatile @Nullable Disposable probe;

    FailoverLimitStore(RedisLimitStore redis, RateLimitProperties properties, @Nullable GatewayMeters meters) {
        this.redis = redis;
        this.mode = properties.failMode();
        this.replicas = Math.max(1, properties.replicas());
        this.timeout = properties.commandTimeout().multipliedBy(2);
        this.meters = meters;
    }

    boolean degraded() {
        return degraded;
    }

    @Override
    public Mono<Take> take(String bucket, long capacity, Duration period, long amount) {
        if (degraded) {
            return fallbackTake(bucket, capacity, period, amount);
        }
        return guard(
                redis.take(bucket, capacity, period, amount), () -> fallbackTake(bucket, capacity, period, amount));
    }

    @Override
    public Mono<Take> peek(String bucket, long capacity, Duration period) {
        if (degraded) {
            return fallbackPeek(bucket, capacity, period);
        }
        return guard(redis.peek(bucket, capacity, period), () -> fallbackPeek(bucket, capacity, period));
    }

    @Override
    public Mono<Slot> acquire(String slots, int max) {
        if (degraded) {
            return fallbackAcquire(slots, max);
        }
        return guard(redis.acquire(slots, max).map(slot -> sharedSlot(slots, slot)), () -> fallbackAcquire(slots, max));
    }

    /** A slot held in Redis whose release, when Redis fails, is kept and made when it answers again. */
    private Slot sharedSlot(String slots, Slot slot) {
        if (!slot.granted()) {
            return slot;
        }
        return Slot.granted(() -> Timeouts.within(slot.release(), timeout).onErrorResume(error -> {
            degrade(error);
            if (slot instanceof RedisLimitStore.RedisSlot held) {
                redis.keep(held);
            }
            return Mono.empty();
        }));
    }

    @Override
    public Mono<Hold> reserve(String account, long limit, long amount) {
        if (degraded) {
            return fallbackReserve(account, limit, amount);
        }
        return guard(
                redis.reserve(account, limit, amount).map(hold -> sharedHold(account, hold)),
                () -> fallbackReserve(account, limit, amount));
    }

    /**
     * A reservation held in Redis whose settlement also adds to this replica's own account (the local
     * fall-back then knows this spend) and, when Redis fails, is kept: settled by the hold's token when
     * it answers again, so a settlement that ran but whose answer was lost is not counted twice.
     */
    private Hold sharedHold(String account, Hold hold) {
        if (!hold.granted()) {
            return hold;
        }
        return Hold.granted(actual -> {
            local.spend(account, actual);
            return Timeouts.within(hold.settle(actual), timeout).onErrorResume(error -> {
                degrade(error);
                if (hold instanceof RedisLimitStore.RedisHold held) {
                    redis.keep(held, actual);
                    return Mono.empty();
                }
                return keepSpend(account, actual);
            });
        });
    }

    @Override
    public Mono<Void> spend(String account, long delta) {
        local.spend(account, delta);
        if (degraded) {
            return keepSpend(account, delta);
        }
        return guard(redis.spend(account, delta), () -> keepSpend(account, delta));
    }

    @Override
    public Mono<Void> spendOnce(String account, long delta, String once) {
        local.spend(account, delta);
        if (degraded) {
            return keepOnce(account, delta, once);
        }
        return guard(redis.spendOnce(account, delta, once), () -> keepOnce(account, delta, once));
    }

    /** Kept by its row with Redis's other kept work, or, when too much is kept, as a plain sum. */
    private Mono<Void> keepOnce(String account, long delta, String once) {
        return redis.keepSpendOnce(account, delta, once) ? Mono.empty() : keepSpend(account, delta);
    }

    @Override
    public Mono<Void> seed(String account, long spent) {
        local.seed(account, spent);
        if (degraded) {
            return keepSeed(account, spent);
        }
        return guard(redis.seed(account, spent), () -> keepSeed(account, spent));
    }

    /**
     * In Redis when it answers; while it does not, owed until the seeds kept meanwhile are written
     * (the probe writes both once Redis is back), as budgets seeded during an outage must also
     * notice a later loss of Redis's data.
     */
    @Override
    public Mono<Void> markSeeded() {
        if (degraded) {
            markOwed = true;
            return Mono.empty();
        }
        return guard(redis.markSeeded(), () -> {
            markOwed = true;
            return Mono.empty();
        });
    }

    @Override
    public void onSpendLost(Runnable listener) {
        redis.onSpendLost(listener);
    }

    private Mono<Void> keepSpend(String account, long delta) {
        unsharedSpend.merge(account, delta, Long::sum);
        return Mono.empty();
    }

    private Mono<Void> keepSeed(String account, long spent) {
        unsharedSeeds.putIfAbsent(account, spent);
        return Mono.empty();
    }

    /** Writes to Redis what it missed while unreachable; what fails stays kept for the next try. */
    private Mono<Void> shareWhatRedisMissed() {
        Flux<Void> seeds = Flux.fromIterable(List.copyOf(unsharedSeeds.entrySet()))
                .concatMap(seed -> redis.seed(seed.getKey(), seed.getValue())
                        .timeout(timeout)
                        .doOnSuccess(done -> unsharedSeeds.remove(seed.getKey(), seed.getValue())));
        Flux<Void> spend = replay(unsharedSpend, redis::spend);
        // The marker only once every kept seed is in: it says that Redis holds every key's spend.
        Mono<Void> mark = Mono.defer(() -> markOwed && unsharedSeeds.isEmpty()
                ? redis.markSeeded().timeout(timeout).doOnSuccess(done -> markOwed = false)
                : Mono.empty());
        return seeds.thenMany(spend).then(mark).then(redis.giveBackKept());
    }

    /** Writes each kept amount with {@code write}; an amount whose write fails is kept again. */
    private Flux<Void> replay(ConcurrentHashMap<String, Long> kept, BiFunction<String, Long, Mono<Void>> write) {
        return Flux.fromIterable(List.copyOf(kept.keySet())).concatMap(name -> {
            Long amount = kept.remove(name);
            if (amount == null) {
                return Mono.empty();
            }
            return write.apply(name, amount).timeout(timeout).doOnError(error -> kept.merge(name, amount, Long::sum));
        });
    }

    private volatile boolean markOwed;

    private boolean redisMissedSomething() {
        return !unsharedSpend.isEmpty() || !unsharedSeeds.isEmpty() || redis.hasKept() || markOwed;
    }

    private <T> Mono<T> guard(Mono<T> call, Supplier<Mono<T>> fallback) {
        return Timeouts.within(call, timeout).onErrorResume(error -> {
            degrade(error);
            return fallback.get();
        });
    }

    private Mono<Take> fallbackTake(String bucket, long capacity, Duration period, long amount) {
        return switch (mode) {
            case LOCAL -> local.take(bucket, share(capacity), period, amount);
            case OPEN -> Mono.just(new LocalLimitStore.LocalTake(null, true, capacity, 0, 0));
            case CLOSED ->
                Mono.just(new LocalLimitStore.LocalTake(null, false, 0, period.toNanos(), PROBE_EVERY.toNanos()));
        };
    }

    private Mono<Take> fallbackPeek(String bucket, long capacity, Duration period) {
        return switch (mode) {
            case LOCAL -> local.peek(bucket, share(capacity), period);
            case OPEN -> Mono.just(new LocalLimitStore.LocalTake(null, true, capacity, 0, 0));
            case CLOSED -> Mono.just(new LocalLimitStore.LocalTake(null, true, 0, period.toNanos(), 0));
        };
    }

    private Mono<Slot> fallbackAcquire(String slots, int max) {
        return switch (mode) {
            case LOCAL -> local.acquire(slots, (int) share(max));
            case OPEN -> Mono.just(Slot.FREE);
            case CLOSED -> Mono.just(Slot.REFUSED);
        };
    }

    private Mono<Hold> fallbackReserve(String account, long limit, long amount) {
        return switch (mode) {
            // Spend is tracked locally too (seeded at start, added on every settlement), so the local
            // account knows this replica's whole spend; only other replicas' are unseen. What settles
            // here is kept for Redis's shared counter.
            case LOCAL ->
                local.reserve(account, outageShare(account, limit), amount).map(hold -> localHold(account, hold));
            // Admitted without a limit, but what it spends still counts: locally, and in Redis once
            // it answers (it was lost, and the key kept spending past its budget after the outage).
            case OPEN ->
                Mono.just(Hold.granted(actual -> local.spend(account, actual).then(keepSpend(account, actual))));
            case CLOSED -> Mono.just(Hold.UNAVAILABLE);
        };
    }

    /**
     * What this replica may let an account reach while Redis is unreachable: what it knew spent
     * when its outage began, plus its share of the rest of the budget (as rates and slots get their
     * share of the limit). The whole budget let each replica spend all that was left.
     */
    private long outageShare(String account, long limit) {
        long base = spentAtOutage.computeIfAbsent(account, local::spent);
        return base >= limit ? limit : base + share(limit - base);
    }

    private Hold localHold(String account, Hold hold) {
        if (!hold.granted()) {
            return hold;
        }
        return Hold.granted(actual -> hold.settle(actual).then(keepSpend(account, actual)));
    }

    /** This replica's share of a limit while replicas cannot see each other's counters. */
    private long share(long limit) {
        return Math.max(1, limit / replicas);
    }

    private void degrade(Throwable error) {
        if (!degraded) {
            degraded = true;
            log.warn(
                    "Redis failed ({}): rate limits fall back to '{}' mode until it answers again",
                    error.toString(),
                    mode.name().toLowerCase(java.util.Locale.ROOT));
            if (meters != null) {
                meters.fallback(true);
            }
        }
    }

    private void recover() {
        if (degraded) {
            degraded = false;
            spentAtOutage.clear();
            log.info("Redis answers again: rate limits are shared across replicas");
            if (meters != null) {
                meters.fallback(false);
            }
        }
    }

    @Override
    public void start() {
        // Connect before the first request, so that a healthy start never begins in fall-back
        // (which would count some requests locally and some in Redis). Bounded: start-up goes on
        // in fall-back when Redis is down.
        try {
            redis.ping().toFuture().get(timeout.plusSeconds(2).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            degraded = false;
            if (meters != null) {
                meters.fallback(false);
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            degraded = false;
            degrade(e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e);
        }
        // Also runs while up when something is still owed to Redis: spend kept by a request that
        // checked just before the switch back.
        probe = Flux.interval(PROBE_EVERY, PROBE_EVERY)
                .onBackpressureDrop()
                .filter(tick -> degraded || redisMissedSomething())
                .concatMap(tick -> redis.ping()
                        .timeout(timeout.plusSeconds(1))
                        .then(Mono.defer(this::shareWhatRedisMissed))
                        .then(Mono.fromRunnable(this::recover))
                        .onErrorResume(error -> {
                            degrade(error);
                            return Mono.empty();
                        }))
                .subscribe();
    }

    /**
     * Stops the probe, and gives Redis one last chance (a couple of seconds) to take what it missed:
     * the spend kept in memory during an outage was otherwise dropped by a stop, and the budgets
     * shared by every replica never counted it. What still cannot be written is logged.
     */
    @Override
    public void stop() {
        Disposable current = probe;
        if (current != null) {
            current.dispose();
        }
        probe = null;
        if (redisMissedSomething()) {
            try {
                // On a new connection, tried again until Redis answers: the one the outage broke may
                // still count as open, and a ping on it only times out.
                // On the stopping thread, never an event loop (as start's wait for the first ping).
                redis.pingOnANewConnection()
                        .timeout(timeout)
                        .retryWhen(Retry.fixedDelay(Long.MAX_VALUE, Duration.ofMillis(100)))
                        .then(Mono.defer(this::shareWhatRedisMissed))
                        .toFuture()
                        .get(timeout.plusSeconds(2).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException unreachable) {
                // Logged below with what it leaves unwritten.
            }
            if (redisMissedSomething()) {
                log.warn(
                        "Redis did not answer at stop: what was settled or given back while it was unreachable"
                                + " (the spend of {} account(s), and kept slots and holds) is not in Redis",
                        unsharedSpend.size() + unsharedSeeds.size());
            }
        }
        redis.close();
    }

    @Override
    public boolean isRunning() {
        return probe != null;
    }
}
