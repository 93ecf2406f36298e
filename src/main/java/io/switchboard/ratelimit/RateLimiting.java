package io.switchboard.ratelimit;

import io.switchboard.metrics.GatewayMeters;
import io.switchboard.usage.ModelPrices;
import io.switchboard.usage.UsageListener;
import io.switchboard.usage.UsageRepository;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.web.server.WebFilter;

/**
 * The limits feature as the application wires it: the store (in memory, or Redis with its
 * fall-back when {@code gateway.ratelimit.redis-url} is set), the two admission filters, the filter
 * that reports the limits in every answer's headers, and the
 * usage listener that settles reservations. At start it seeds each key's spend from the ledger so
 * budgets hold across restarts ({@link BudgetSeeding}).
 */
public final class RateLimiting implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(RateLimiting.class);

    private final LimitStore store;
    private final Admissions admissions;
    private final RateLimitWebFilter rateLimitFilter;
    private final BudgetWebFilter budgetFilter;
    private final RateLimitHeadersWebFilter headersFilter;
    private final @Nullable BudgetSeeding seeding;
    private final boolean enabled;
    private volatile boolean running;

    /**
     * @param ledger where past spend is read from; null: budgets count only this process's spend
     * @param ledgerReady whether the ledger's sum is complete: the schema migrations have run and the
     *     rows earlier runs left in the crash journal or spill file are written
     * @param ledgerRetryMax longest wait between two attempts to read the ledger
     */
    public RateLimiting(
            RateLimitProperties properties,
            ModelPrices prices,
            @Nullable GatewayMeters meters,
            @Nullable UsageRepository ledger,
            BooleanSupplier ledgerReady,
            Duration ledgerRetryMax) {
        String redisUrl = properties.redisUrl();
        if (redisUrl != null && !redisUrl.isBlank()) {
            this.store = new FailoverLimitStore(
                    new RedisLimitStore(redisUrl, properties.commandTimeout(), properties.keyPrefix()),
                    properties,
                    meters);
            log.info(
                    "Rate limits shared through Redis (fall-back mode '{}', {} replicas)",
                    properties.failMode().name().toLowerCase(java.util.Locale.ROOT),
                    properties.replicas());
        } else {
            this.store = new LocalLimitStore();
        }
        this.enabled = properties.enabled();
        this.seeding = enabled && ledger != null ? new BudgetSeeding(ledger, store, ledgerReady, ledgerRetryMax) : null;
        this.admissions = new Admissions(store);
        this.rateLimitFilter = new RateLimitWebFilter(store, admissions, properties, meters);
        this.headersFilter = new RateLimitHeadersWebFilter(store, properties.defaults());
        this.budgetFilter = new BudgetWebFilter(store, admissions, prices, properties, meters, this::budgetsKnown);
    }

    public WebFilter rateLimitFilter() {
        return enabled ? rateLimitFilter : PASS;
    }

    public WebFilter rateLimitHeadersFilter() {
        return enabled ? headersFilter : PASS;
    }

    public WebFilter budgetFilter() {
        return enabled ? budgetFilter : PASS;
    }

    /** With {@code gateway.ratelimit.enabled=false}: the filters step aside (e.g. to benchmark without them). */
    private static final WebFilter PASS = (exchange, chain) -> chain.filter(exchange);

    public UsageListener usageListener() {
        return admissions;
    }

    /** Whether every key's past spend is known, so budgets can be enforced (the {@code budgets} health). */
    public boolean budgetsKnown() {
        return seeding == null || seeding.known();
    }

    /** Requests admitted and not yet settled (for tests and diagnostics). */
    public int inFlight() {
        return admissions.size();
    }

    @Override
    public void start() {
        running = true;
        if (store instanceof SmartLifecycle lifecycle) {
            lifecycle.start();
        }
        if (seeding != null) {
            seeding.start();
        }
    }

    @Override
    public void stop() {
        running = false;
        if (seeding != null) {
            seeding.stop();
        }
        awaitAdmissionsEnded();
        if (store instanceof SmartLifecycle lifecycle) {
            lifecycle.stop();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** How long a stop waits for the last requests' admissions to end before the store closes. */
    private static final long ADMISSIONS_DRAIN_NANOS = Duration.ofSeconds(2).toNanos();

    /**
     * The web server's graceful stop can be done while the last answers' filter chains are still
     * ending on their event loops, where their slots are released and their reservations settled:
     * the store closed under them, and a stream's slot stayed held in Redis (seen in CI: "Redis is
     * not connected" from a release during the stop). Waits for them, bounded, on the stopping
     * thread (never an event loop).
     */
    private void awaitAdmissionsEnded() {
        long deadline = System.nanoTime() + ADMISSIONS_DRAIN_NANOS;
        while (admissions.size() > 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(Duration.ofMillis(10).toNanos());
        }
    }

    /**
     * Starts before the web server takes requests and stops after its graceful shutdown (Boot's
     * phases DEFAULT_PHASE - 1024 and - 2048), and before the usage ledger (- 4096). At the default
     * phase it stopped first: the Redis client closed while streams still finished, so their slot
     * releases and budget settlements never reached Redis; and requests came before the start.
     */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 3072;
    }
}
