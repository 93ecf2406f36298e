package io.switchboard.ratelimit;

import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * Where the counters live: this process ({@link LocalLimitStore}) or Redis shared by every replica
 * ({@link RedisLimitStore}). Every operation is one atomic check-and-change, non-blocking.
 */
interface LimitStore {

    /**
     * Takes {@code amount} tokens from a bucket of {@code capacity} refilled whole every
     * {@code period}, if it holds them.
     */
    Mono<Take> take(String bucket, long capacity, Duration period, long amount);

    /**
     * What {@link #take} would report for the bucket now, taking nothing: for the rate-limit headers
     * of an answer refused before the rate-limit check (400, 403, 413). The result's
     * {@code adjust} does nothing.
     */
    Mono<Take> peek(String bucket, long capacity, Duration period);

    /** Takes a concurrency slot if fewer than {@code max} are held. */
    Mono<Slot> acquire(String slots, int max);

    /**
     * Reserves {@code amount} nano-USD of a budget of {@code limit} nano-USD, granted while what is
     * spent plus reserved is below the limit (so at most one request's worst case past it).
     */
    Mono<Hold> reserve(String account, long limit, long amount);

    /**
     * What a store reserves of a request's {@code amount}: never more than the whole budget, as
     * past it nothing more is admitted anyway. An absurd {@code max_tokens} asks for up to
     * {@code Long.MAX_VALUE}; held as it is, the next sum wrapped around (in memory: every request
     * of the key admitted) or overflowed (Redis: an error that failed the store over).
     */
    static long reservable(long limit, long amount) {
        return Math.max(0, Math.min(amount, limit));
    }

    /** Adds to what an account has spent (settlement found the estimate too low or too high). */
    Mono<Void> spend(String account, long delta);

    /**
     * As {@link #spend}, once for {@code once} (a ledger row) however many replicas settle that row:
     * after a restart each replica resumes the settlements of earlier rows, including those another
     * replica is still settling. One process settles a row once by itself, so by default a plain spend.
     */
    default Mono<Void> spendOnce(String account, long delta, String once) {
        return spend(account, delta);
    }

    /**
     * Adds what the ledger says an account spent before this process started, once per account: a
     * second seed of the same account is ignored. Adding (not setting) keeps the spend of requests
     * settled before the seed arrived.
     */
    Mono<Void> seed(String account, long spent);

    /**
     * Says that every key's past spend is now in the store (the ledger's seed is done). A store
     * that can lose it (Redis) then notices when it has, and tells {@link #onSpendLost}.
     */
    default Mono<Void> markSeeded() {
        return Mono.empty();
    }

    /**
     * Who to tell when the store finds the spend it was seeded with gone: its reservations are then
     * answered {@link Hold#UNAVAILABLE} until it is seeded again.
     */
    default void onSpendLost(Runnable listener) {}

    /** The result of {@link #take}. */
    interface Take {
        boolean allowed();

        long remaining();

        /** Nanoseconds until the bucket is full again. */
        long resetNanos();

        /** Nanoseconds until the request could be admitted, when refused. */
        long retryAfterNanos();

        /** Gives tokens back (negative) or takes more past the limit (positive). */
        Mono<Void> adjust(long delta);

        /**
         * What this take took of {@code asked}: all of it, or less when the bucket it took from is
         * smaller (a replica's share of the limit while Redis is down), so that settling and refunds
         * count from what was taken.
         */
        default long taken(long asked) {
            return asked;
        }
    }

    /** A concurrency slot; release it exactly once. */
    interface Slot {
        /** A slot granted with nothing to release (no limit, or the open fall-back). */
        Slot FREE = new Fixed(true);

        Slot REFUSED = new Fixed(false);

        boolean granted();

        Mono<Void> release();

        /** A granted slot that gives itself back with {@code release}. */
        static Slot granted(java.util.function.Supplier<Mono<Void>> release) {
            return new Slot() {
                @Override
                public boolean granted() {
                    return true;
                }

                @Override
                public Mono<Void> release() {
                    return release.get();
                }
            };
        }
    }

    /** A budget reservation; settle it exactly once, with the real cost (0 to release). */
    interface Hold {
        Hold REFUSED = new Fixed(false);

        /** Refused because the budget cannot be checked now (Redis unreachable, {@code fail-mode=closed}). */
        Hold UNAVAILABLE = new Fixed(false);

        boolean granted();

        Mono<Void> settle(long actual);

        /** A granted hold whose settlement does {@code settle} with the actual amount. */
        static Hold granted(java.util.function.LongFunction<Mono<Void>> settle) {
            return new Hold() {
                @Override
                public boolean granted() {
                    return true;
                }

                @Override
                public Mono<Void> settle(long actual) {
                    return settle.apply(actual);
                }
            };
        }
    }

    /** A slot or hold with nothing behind it. */
    record Fixed(boolean granted) implements Slot, Hold {
        @Override
        public Mono<Void> release() {
            return Mono.empty();
        }

        @Override
        public Mono<Void> settle(long actual) {
            return Mono.empty();
        }
    }
}
