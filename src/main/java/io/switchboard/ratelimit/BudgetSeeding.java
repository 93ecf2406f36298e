package io.switchboard.ratelimit;

import io.switchboard.storage.BoundedReads;
import io.switchboard.usage.UsageRepository;
import io.switchboard.usage.UsageRepository.KeySpend;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Learns what each key spent before this process started, from the usage ledger, so that budgets
 * hold across restarts. Only rows created before the cutoff (taken when this object is made, before
 * the process serves a request) are read: the rows of this process are counted by the limit store
 * as its requests settle, and the seed is added to them. While the ledger cannot be read (the
 * database is down or its schema not yet migrated) it retries with backoff for as long as the
 * gateway runs; until it succeeds the spend is unknown and budgeted keys are refused (503).
 */
final class BudgetSeeding {

    private static final Logger log = LoggerFactory.getLogger(BudgetSeeding.class);
    private static final BigDecimal NANOS = BigDecimal.valueOf(1_000_000_000L);
    private static final Duration FIRST_RETRY = Duration.ofSeconds(1);

    /** A read that hangs (a black-holed database) is abandoned and retried like one that failed. */
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    /** How long start-up waits for the first attempt, so a healthy start serves budgets at once. */
    private static final Duration FIRST_ATTEMPT_WAIT = Duration.ofSeconds(5);

    private final UsageRepository ledger;
    private final LimitStore store;
    private final BooleanSupplier ledgerComplete;
    private final Duration retryMax;
    // Milliseconds, as the ledger's created_at of a request (its start).
    private final Instant cutoff = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    private final CompletableFuture<Void> firstAttempt = new CompletableFuture<>();
    private volatile boolean known;
    private volatile @Nullable Disposable running;
    private final AtomicBoolean reseeding = new AtomicBoolean();

    /**
     * @param ledgerComplete whether the ledger can be summed: the schema migrations have run and the rows
     *     earlier runs left in the crash journal or spill file are written
     * @param retryMax longest wait between two attempts
     */
    BudgetSeeding(UsageRepository ledger, LimitStore store, BooleanSupplier ledgerComplete, Duration retryMax) {
        this.ledger = ledger;
        this.store = store;
        this.ledgerComplete = ledgerComplete;
        this.retryMax = retryMax.compareTo(FIRST_RETRY) < 0 ? FIRST_RETRY : retryMax;
    }

    /** Whether every key's spend before this process started is in the store. */
    boolean known() {
        return known;
    }

    void start() {
        store.onSpendLost(this::reseed);
        // The first failed read also lets the start go on (seedAll's first retry says so).
        running = seedAll(cutoff, "before " + cutoff)
                .doFinally(signal -> firstAttempt.complete(null))
                .subscribe(null, error -> log.error("Budget seeding stopped; budgeted keys stay refused", error));
        awaitFirstAttempt();
    }

    /**
     * The store lost every key's spend (Redis restarted without its data): read the ledger again,
     * all of it, and seed the store anew. Budgeted requests are refused (503) until it is done, by
     * the store itself, as it answers reservations as unavailable until it is marked seeded again.
     * Replicas that notice together each seed; the first seed of a key counts, as at start.
     */
    private void reseed() {
        if (!reseeding.compareAndSet(false, true)) {
            return;
        }
        log.warn("Budgets: the shared limit store lost the keys' spend; reading it again from the usage ledger");
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        seedAll(now, "after a loss of the shared store's data")
                .doFinally(signal -> reseeding.set(false))
                .subscribe(null, error -> log.error("Budget re-seeding stopped", error));
    }

    /** Reads the spend of the rows created before {@code until} and seeds every key's, retrying until it can. */
    private Mono<Void> seedAll(Instant until, String when) {
        return Mono.defer(() -> readLedger(until))
                .retryWhen(Retry.backoff(Long.MAX_VALUE, FIRST_RETRY)
                        .maxBackoff(retryMax)
                        .jitter(0.1)
                        .doBeforeRetry(signal -> {
                            if (signal.totalRetries() == 0) {
                                firstAttempt.complete(null);
                                log.warn(
                                        "Budgets not known yet: could not read key spend from the usage ledger ({});"
                                                + " keys with a budget get 503 until it is read, retrying",
                                        signal.failure().toString());
                            }
                        }))
                // Read whole before seeding anything: a failed read is retried from scratch and
                // must not have added part of the spend already.
                .flatMap(spends -> Flux.fromIterable(spends)
                        .concatMap(spend -> store.seed(
                                        spend.keyId(),
                                        spend.spentUsd().multiply(NANOS).longValue())
                                .onErrorResume(error -> {
                                    log.warn("Could not seed the spend of key {}: {}", spend.keyId(), error.toString());
                                    return Mono.empty();
                                }))
                        .then(store.markSeeded().onErrorResume(error -> Mono.empty()))
                        .then(Mono.fromRunnable(() -> {
                            known = true;
                            log.info(
                                    "Budgets known: spend of {} key(s) {} read from the usage ledger",
                                    spends.size(),
                                    when);
                        })));
    }

    private Mono<List<KeySpend>> readLedger(Instant until) {
        if (!ledgerComplete.getAsBoolean()) {
            return Mono.error(new IllegalStateException(
                    "the database schema is not migrated yet, or rows of earlier runs are not yet written"));
        }
        return Mono.fromFuture(BoundedReads.waitAtMost(ledger.spendByKey(until).collectList(), READ_TIMEOUT), true);
    }

    /** Blocks the starting thread (never an event loop), bounded: a slow database only delays readiness. */
    private void awaitFirstAttempt() {
        try {
            firstAttempt.get(FIRST_ATTEMPT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // Still trying in the background; readiness and the 503s say so meanwhile.
        }
    }

    void stop() {
        Disposable current = running;
        if (current != null) {
            current.dispose();
        }
        running = null;
    }
}
