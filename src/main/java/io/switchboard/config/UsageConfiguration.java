package io.switchboard.config;

import io.micrometer.core.instrument.MeterRegistry;
import io.r2dbc.spi.ConnectionFactory;
import io.switchboard.demo.DemoUpstreamServer;
import io.switchboard.exchange.ExchangeObserverFactory;
import io.switchboard.metrics.GatewayMeters;
import io.switchboard.metrics.MetricsProperties;
import io.switchboard.metrics.MetricsWebFilter;
import io.switchboard.metrics.UsageMetrics;
import io.switchboard.ratelimit.RateLimitProperties;
import io.switchboard.ratelimit.RateLimiting;
import io.switchboard.storage.DatabaseLocation;
import io.switchboard.storage.SchemaMigrations;
import io.switchboard.storage.StorageProperties;
import io.switchboard.upstream.ProviderRegistry;
import io.switchboard.usage.GenerationSettler;
import io.switchboard.usage.JdbcUsageRowWriter;
import io.switchboard.usage.ModelPrices;
import io.switchboard.usage.PricingProperties;
import io.switchboard.usage.UsageAdminHandler;
import io.switchboard.usage.UsageCapture;
import io.switchboard.usage.UsageJournal;
import io.switchboard.usage.UsageLedger;
import io.switchboard.usage.UsageListener;
import io.switchboard.usage.UsageProperties;
import io.switchboard.usage.UsageRepository;
import io.switchboard.usage.UsageRowWriter;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.WebFilter;

/**
 * Usage capture, the ledger, limits and metrics. The proxy knows none of them: usage watches the
 * relay through {@link ExchangeObserverFactory}; limits are WebFilters at
 * {@code PipelineOrder.RATE_LIMIT} and {@code BUDGET}; metrics a WebFilter right after the request id.
 */
@Configuration(proxyBeanMethods = false)
class UsageConfiguration {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(UsageConfiguration.class);

    @Bean
    GatewayMeters gatewayMeters(MeterRegistry registry, MetricsProperties properties) {
        return new GatewayMeters(registry, properties);
    }

    @Bean
    MetricsWebFilter metricsWebFilter(GatewayMeters meters, MetricsProperties properties) {
        return new MetricsWebFilter(meters, properties);
    }

    @Bean
    UsageMetrics usageMetrics(GatewayMeters meters) {
        return new UsageMetrics(meters);
    }

    @Bean
    UsageRepository usageRepository(ConnectionFactory connections) {
        return new UsageRepository(connections);
    }

    @Bean
    UsageLedger usageLedger(
            UsageRepository repository,
            DatabaseLocation database,
            UsageProperties properties,
            GatewayMeters meters,
            StorageProperties storage) {
        // The spill file beside the crash journal, under the storage path a volume is mounted at:
        // left in ./data, the rows it held (and the journal had let go of) went with the container.
        Path spillFile = properties.spillFileUnder(storage.path());
        UsageLedger ledger = new UsageLedger(
                usageRowWriter(repository, database), properties, usageJournal(properties, storage), spillFile);
        meters.usageQueue(ledger, UsageLedger::depth, UsageLedger::lost, UsageLedger::spilled);
        return ledger;
    }

    /**
     * JDBC on the ledger's writer thread for the embedded database (H2 runs in this process, and its
     * R2DBC driver only wraps the same engine at a cost: see {@link JdbcUsageRowWriter}); R2DBC for a
     * database server.
     */
    private static UsageRowWriter usageRowWriter(UsageRepository repository, DatabaseLocation database) {
        return database.inProcess()
                ? new JdbcUsageRowWriter(database.jdbcUrl(), database.username(), database.password())
                : UsageRowWriter.of(repository);
    }

    /** The ledger's crash journal, on by default; next to the embedded database unless its path is set. */
    private static @Nullable UsageJournal usageJournal(UsageProperties properties, StorageProperties storage) {
        UsageProperties.Journal journal = properties.journal();
        if (!properties.enabled() || !journal.enabled()) {
            return null;
        }
        Path path = journal.path() != null ? journal.path() : storage.path().resolve("usage-journal.log");
        return new UsageJournal(path, journal, properties.queueCapacity());
    }

    @Bean
    ModelPrices modelPrices(PricingProperties pricing, UsageProperties usage, ProviderRegistry providers) {
        return new ModelPrices(pricing, usage, providers);
    }

    /**
     * Whether the ledger holds every row of earlier runs: the schema exists and the rows they left in
     * the crash journal or the spill file are written (they may wait for a database that was down).
     */
    private static BooleanSupplier ledgerComplete(SchemaMigrations migrations, UsageLedger ledger) {
        return () -> migrations.migrated() && ledger.earlierRunsWritten();
    }

    @Bean
    RateLimiting rateLimiting(
            RateLimitProperties properties,
            ModelPrices prices,
            GatewayMeters meters,
            UsageRepository repository,
            UsageLedger ledger,
            SchemaMigrations migrations,
            StorageProperties storage) {
        return new RateLimiting(
                properties,
                prices,
                meters,
                repository,
                ledgerComplete(migrations, ledger),
                storage.migrationRetryMax());
    }

    /**
     * {@code budgets} in {@code /actuator/health} and its readiness group: out of service until the
     * spend of earlier runs has been read from the usage ledger (budgeted keys get 503 meanwhile).
     */
    @Bean
    HealthIndicator budgetsHealthIndicator(RateLimiting limits) {
        return () -> limits.budgetsKnown()
                ? Health.up().build()
                : Health.outOfService().build();
    }

    @Bean
    WebFilter rateLimitWebFilter(RateLimiting limits) {
        return limits.rateLimitFilter();
    }

    @Bean
    WebFilter rateLimitHeadersWebFilter(RateLimiting limits) {
        return limits.rateLimitHeadersFilter();
    }

    @Bean
    WebFilter budgetWebFilter(RateLimiting limits) {
        return limits.budgetFilter();
    }

    @Bean
    GenerationSettler generationSettler(
            ProviderRegistry providers,
            UsageLedger ledger,
            UsageMetrics metrics,
            RateLimiting limits,
            UsageProperties properties,
            UsageRepository repository,
            SchemaMigrations migrations) {
        // At start it also settles what a stop interrupted, found in the ledger once earlier runs' rows
        // are in it, and only once the budgets' seed has read what those rows cost: a settlement adds
        // its correction to the key's spend, and a seed that read the corrected row would add it again.
        BooleanSupplier ledgerComplete = ledgerComplete(migrations, ledger);
        GenerationSettler settler = new GenerationSettler(
                providers,
                ledger,
                List.of(limits.usageListener(), metrics),
                properties,
                settledProviders(properties, providers),
                repository,
                () -> ledgerComplete.getAsBoolean() && limits.budgetsKnown());
        // Rows a crash left estimated (interrupted requests with a journaled generation id) too, as
        // soon as the same holds.
        ledger.onRecovered(settler::settleEarlierRow);
        return settler;
    }

    private static Set<String> settledProviders(UsageProperties properties, ProviderRegistry providers) {
        Set<String> settled = new LinkedHashSet<>(properties.settleProviders());
        if (providers.byName(DemoUpstreamServer.PROVIDER_NAME) != null) {
            settled.add(DemoUpstreamServer.PROVIDER_NAME);
        }
        return settled;
    }

    @Bean
    ExchangeObserverFactory usageCapture(
            ModelPrices prices,
            UsageLedger ledger,
            UsageMetrics metrics,
            RateLimiting limits,
            ObjectProvider<GenerationSettler> settler,
            UsageProperties properties) {
        List<UsageListener> listeners = List.of(limits.usageListener(), metrics);
        if (!properties.enabled()) {
            // Nothing learns what a request used: tpm and budget reservations are handed back whole.
            log.warn("gateway.usage.enabled=false: no usage is recorded, so keys' tpm and budget limits are"
                    + " not enforced (rpm and max_concurrency are), and the token, cost and active-stream"
                    + " metrics stay at zero");
            return exchange -> null;
        }
        return new UsageCapture(prices, ledger, listeners, settler.getIfAvailable(), ledger.journal());
    }

    @Bean
    RouterFunction<ServerResponse> usageAdminRoutes(UsageRepository repository) {
        return new UsageAdminHandler(repository).routes();
    }
}
