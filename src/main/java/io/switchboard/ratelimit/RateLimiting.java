package io.switchboard.ratelimit;

import io.switchboard.metrics.GatewayMeters;
import io.switchboard.usage.ModelPrices;
import io.switchboard.usage.UsageListener;
import io.switchboard.usage.UsageRepository;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.web.server.WebFilter;

/**
 * The limits feature as the application wires it: the store (in memory, or Redis with its
 * fall-back when {@code gateway.ratelimit.redis-url} is set), the two admission filters, and the
 * usage listener that settles reservations. At start it seeds each key's spend from the ledger so
 * budgets hold across restarts.
 */
public final class RateLimiting implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(RateLimiting.class);
    private static final BigDecimal NANOS = BigDecimal.valueOf(1_000_000_000L);

    private final LimitStore store;
    private final Admissions admissions;
    private final RateLimitWebFilter rateLimitFilter;
    private final BudgetWebFilter budgetFilter;
    private final @Nullable UsageRepository ledger;
    private final boolean enabled;
    // Ledger rows created from here on are this process's own: its store counts them as they settle.
    private final Instant seedCutoff = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    private volatile boolean running;

    public RateLimiting(
            RateLimitProperties properties,
            ModelPrices prices,
            @Nullable GatewayMeters meters,
            @Nullable UsageRepository ledger) {
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
        this.admissions = new Admissions(store);
        this.rateLimitFilter = new RateLimitWebFilter(store, admissions, properties, meters);
        this.budgetFilter = new BudgetWebFilter(store, admissions, prices, properties, meters);
        this.ledger = ledger;
        this.enabled = properties.enabled();
    }

    public WebFilter rateLimitFilter() {
        return enabled ? rateLimitFilter : PASS;
    }

    public WebFilter budgetFilter() {
        return enabled ? budgetFilter : PASS;
    }

    /** With {@code gateway.ratelimit.enabled=false}: the filters step aside (e.g. to benchmark without them). */
    private static final WebFilter PASS = (exchange, chain) -> chain.filter(exchange);

    public UsageListener usageListener() {
        return admissions;
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
        if (ledger != null) {
            ledger.spendByKey(seedCutoff)
                    .flatMap(spend -> store.seed(
                            spend.keyId(), spend.spentUsd().multiply(NANOS).longValue()))
                    .subscribe(
                            null, error -> log.warn("Could not read key spend from the ledger: {}", error.toString()));
        }
    }

    @Override
    public void stop() {
        running = false;
        if (store instanceof SmartLifecycle lifecycle) {
            lifecycle.stop();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
