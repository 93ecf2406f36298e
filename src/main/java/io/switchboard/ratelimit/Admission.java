package io.switchboard.ratelimit;

import io.switchboard.usage.UsageRecord;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * What one admitted request holds: its token reservation, its concurrency slot, its budget hold.
 * Two events end it, in either order: the filter chain ends (the answer is done or the client
 * left: the slot is released at once) and, if the proxy relayed it, its usage record arrives (the
 * token and budget reservations are settled with the real numbers). A request the proxy never
 * relayed gives its reservations back whole.
 */
final class Admission {

    private static final Logger log = LoggerFactory.getLogger(Admission.class);

    final KeyLimits limits;
    private final LimitStore store;
    private LimitStore.@Nullable Take tokens;
    private long reservedTokens;
    private LimitStore.@Nullable Slot slot;
    private LimitStore.@Nullable Hold hold;
    private boolean observed;
    private boolean settled;
    private boolean ended;

    Admission(KeyLimits limits, LimitStore store) {
        this.limits = limits;
        this.store = store;
    }

    // A reservation can arrive after its request ended: the store's answer (Redis, on another
    // thread) lands after the client left and the chain's end ran. It is given back at once: nothing
    // would end this admission again. (Ended before the proxy: the upstream saw nothing.)

    void tokens(LimitStore.Take take, long reserved) {
        synchronized (this) {
            if (!ended) {
                this.tokens = take;
                this.reservedTokens = reserved;
                return;
            }
        }
        fire(take.adjust(-reserved), "late token refund");
    }

    void slot(LimitStore.Slot slot) {
        synchronized (this) {
            if (!ended) {
                this.slot = slot;
                return;
            }
        }
        fire(slot.release(), "late concurrency release");
    }

    void hold(LimitStore.Hold hold) {
        synchronized (this) {
            if (!ended) {
                this.hold = hold;
                return;
            }
        }
        fire(hold.settle(0), "late budget release");
    }

    /** The proxy opened its observers: a usage record will follow. */
    synchronized void observed() {
        observed = true;
    }

    /** @return true when nothing is left to wait for */
    boolean usage(UsageRecord record) {
        LimitStore.Take take;
        LimitStore.Hold held;
        long reserved;
        boolean done;
        synchronized (this) {
            if (settled) {
                return ended;
            }
            settled = true;
            take = tokens;
            held = hold;
            reserved = reservedTokens;
            done = ended;
        }
        if (take != null) {
            fire(take.adjust(record.totalTokens() - reserved), "token reconciliation");
        }
        long cost = record.costUsd() == null ? 0 : KeyLimits.spentNanos(record.costUsd());
        if (held != null) {
            fire(held.settle(cost), "budget settlement");
        } else if (cost > 0) {
            fire(store.spend(limits.keyId(), cost), "spend tracking");
        }
        return done;
    }

    /** @return true when nothing is left to wait for */
    boolean ended() {
        LimitStore.Slot held;
        boolean giveBack;
        boolean done;
        synchronized (this) {
            if (ended) {
                return settled || !observed;
            }
            ended = true;
            held = slot;
            slot = null;
            giveBack = !observed && !settled;
            if (giveBack) {
                settled = true;
            }
            done = settled;
        }
        if (held != null) {
            fire(held.release(), "concurrency release");
        }
        if (giveBack) {
            // The upstream never saw this request: nothing was used.
            if (tokens != null) {
                fire(tokens.adjust(-reservedTokens), "token refund");
            }
            if (hold != null) {
                fire(hold.settle(0), "budget release");
            }
        }
        return done;
    }

    private static void fire(Mono<Void> work, String what) {
        work.subscribe(null, error -> log.warn("Rate limit {} failed: {}", what, error.toString()));
    }
}
