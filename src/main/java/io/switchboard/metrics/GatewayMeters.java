package io.switchboard.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Every Switchboard meter, named once here (Prometheus names in brackets):
 * requests ({@code switchboard_requests_total}), request duration
 * ({@code switchboard_request_duration_seconds}), time to first token
 * ({@code switchboard_time_to_first_token_seconds}), tokens ({@code switchboard_tokens_total}),
 * cost ({@code switchboard_cost_usd_total}), limit rejections
 * ({@code switchboard_ratelimit_rejections_total}), upstream errors
 * ({@code switchboard_upstream_errors_total}), open streams ({@code switchboard_active_streams}),
 * the usage queue ({@code switchboard_usage_queue_depth}, {@code switchboard_usage_lost_total},
 * {@code switchboard_usage_spilled_total}) and the Redis fall-back
 * ({@code switchboard_ratelimit_fallback_active}, {@code switchboard_ratelimit_fallback_total}).
 * Tag values go through bounded sets: key names and models past their bound read {@code other}.
 */
public final class GatewayMeters {

    /** Latency buckets: wide enough for a 2-minute stream, few enough to keep series counts low. */
    private static final Duration[] BUCKETS = {
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
        Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(120)
    };

    private final MeterRegistry registry;
    private final BoundedTagValues models;
    private final BoundedTagValues keys;
    private final AtomicInteger activeStreams = new AtomicInteger();
    private final AtomicInteger fallbackActive = new AtomicInteger();

    public GatewayMeters(MeterRegistry registry, MetricsProperties properties) {
        this.registry = registry;
        this.models = new BoundedTagValues(properties.maxModels());
        this.keys = new BoundedTagValues(properties.maxKeys());
        Gauge.builder("switchboard.active.streams", activeStreams, AtomicInteger::get)
                .description("Streams being relayed now")
                .register(registry);
        Gauge.builder("switchboard.ratelimit.fallback.active", fallbackActive, AtomicInteger::get)
                .description("1 while Redis is unreachable and limits use the fall-back mode")
                .register(registry);
    }

    /** The usage queue's gauges, read from the ledger when scraped. */
    public void usageQueue(Supplier<Number> depth, Supplier<Number> lost, Supplier<Number> spilled) {
        Gauge.builder("switchboard.usage.queue.depth", depth)
                .description("Usage records waiting for the database")
                .register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder(
                        "switchboard.usage.lost", lost, s -> s.get().doubleValue())
                .description("Usage records lost (queue full or spill failed)")
                .register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder(
                        "switchboard.usage.spilled", spilled, s -> s.get().doubleValue())
                .description("Usage records moved to the spill file while the database failed")
                .register(registry);
    }

    public String keyTag(String keyName) {
        return keys.tag(keyName);
    }

    public String modelTag(String model) {
        return models.tag(model);
    }

    /** One finished data-plane request. */
    public void request(String key, String model, String provider, String status, boolean stream, long nanos) {
        Tags tags = Tags.of(
                "key", keys.tag(key),
                "model", models.tag(model),
                "provider", provider.isEmpty() ? "none" : provider,
                "status", status,
                "stream", Boolean.toString(stream));
        Counter.builder("switchboard.requests").tags(tags).register(registry).increment();
        Timer.builder("switchboard.request.duration")
                .tags(tags)
                .serviceLevelObjectives(BUCKETS)
                .register(registry)
                .record(Duration.ofNanos(nanos));
    }

    public void timeToFirstToken(String key, String model, String provider, long millis) {
        Timer.builder("switchboard.time.to.first.token")
                .tags("key", keys.tag(key), "model", models.tag(model), "provider", provider)
                .serviceLevelObjectives(BUCKETS)
                .register(registry)
                .record(Duration.ofMillis(millis));
    }

    public void tokens(String key, String model, String provider, String type, long count) {
        if (count > 0) {
            Counter.builder("switchboard.tokens")
                    .tags("key", keys.tag(key), "model", models.tag(model), "provider", provider, "type", type)
                    .register(registry)
                    .increment(count);
        }
    }

    public void cost(String key, String model, String provider, double usd) {
        if (usd > 0) {
            Counter.builder("switchboard.cost.usd")
                    .baseUnit("usd")
                    .tags("key", keys.tag(key), "model", models.tag(model), "provider", provider)
                    .register(registry)
                    .increment(usd);
        }
    }

    /** {@code limit} is one of rpm, tpm, concurrency, budget. */
    public void rejected(String limit, String key) {
        Counter.builder("switchboard.ratelimit.rejections")
                .tags("limit", limit, "key", keys.tag(key))
                .register(registry)
                .increment();
    }

    /** {@code reason} is a usage outcome other than success. */
    public void upstreamError(String provider, String reason) {
        Counter.builder("switchboard.upstream.errors")
                .tags("provider", provider.isEmpty() ? "none" : provider, "reason", reason)
                .register(registry)
                .increment();
    }

    public void streamOpened() {
        activeStreams.incrementAndGet();
    }

    public void streamClosed() {
        activeStreams.decrementAndGet();
    }

    public void fallback(boolean active) {
        fallbackActive.set(active ? 1 : 0);
        if (active) {
            Counter.builder("switchboard.ratelimit.fallback")
                    .description("Times limits fell back because Redis failed")
                    .register(registry)
                    .increment();
        }
    }
}
