package io.switchboard.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

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
 *
 * <p>The per-request meters are resolved once per tag combination and kept: building a meter and
 * looking it up in the registry on every request (a new id, tag list and distribution config each
 * time) was a measurable part of the data plane's CPU. The bounded tag values bound this cache too.
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
    private final ConcurrentHashMap<Series, RequestMeters> requestMeters = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Series, Meter> usageMeters = new ConcurrentHashMap<>();

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

    /**
     * The usage queue's gauges, read from {@code ledger} when scraped. Micrometer holds a function
     * counter's object weakly, so the counters read the ledger itself (held by the application), not
     * a method reference of it that nothing else holds: that one was collected, and the counters
     * froze at their value of the first garbage collection.
     */
    public <T> void usageQueue(
            T ledger, ToDoubleFunction<T> depth, ToDoubleFunction<T> lost, ToDoubleFunction<T> spilled) {
        Gauge.builder("switchboard.usage.queue.depth", ledger, depth)
                .description("Usage records waiting for the database")
                .register(registry);
        FunctionCounter.builder("switchboard.usage.lost", ledger, lost)
                .description("Usage records lost (queue full or spill failed)")
                .register(registry);
        FunctionCounter.builder("switchboard.usage.spilled", ledger, spilled)
                .description("Usage records moved to the spill file while the database failed")
                .register(registry);
    }

    public String keyTag(String keyName) {
        return keys.tag(keyName);
    }

    public String modelTag(String model) {
        return models.tag(model);
    }

    /**
     * One finished data-plane request. Only a model of a successful request takes one of the bounded
     * model tag values: a refused or failed request's model (any string a client sends) reads
     * {@code other} unless already known, so a client cannot use up the places with made-up names.
     */
    public void request(String key, String model, String provider, String status, boolean stream, long nanos) {
        String modelTag = status.equals("2xx") ? models.tag(model) : models.known(model);
        Series series = new Series("", keys.tag(key), modelTag, provider.isEmpty() ? "none" : provider, status, stream);
        RequestMeters meters = requestMeters.get(series);
        if (meters == null) {
            meters = requestMeters.computeIfAbsent(series, this::registerRequest);
        }
        meters.count().increment();
        meters.duration().record(nanos, TimeUnit.NANOSECONDS);
    }

    private RequestMeters registerRequest(Series series) {
        Tags tags = Tags.of(
                "key", series.key(),
                "model", series.model(),
                "provider", series.provider(),
                "status", series.detail(),
                "stream", Boolean.toString(series.stream()));
        return new RequestMeters(
                Counter.builder("switchboard.requests").tags(tags).register(registry),
                Timer.builder("switchboard.request.duration")
                        .tags(tags)
                        .serviceLevelObjectives(BUCKETS)
                        .register(registry));
    }

    /**
     * Time to the first content of a successful answer, tagged {@code stream}: for a stream it is
     * the first token's, for a JSON answer the whole answer's, which an operator keeps apart.
     * {@code modelTag} from {@link #usageModelTag}.
     */
    public void timeToFirstToken(String key, String modelTag, String provider, boolean stream, long millis) {
        Timer timer = resolve(
                "ttft",
                key,
                modelTag,
                provider,
                "",
                stream,
                series -> Timer.builder("switchboard.time.to.first.token")
                        .tags(
                                "key", series.key(),
                                "model", series.model(),
                                "provider", series.provider(),
                                "stream", Boolean.toString(series.stream()))
                        .serviceLevelObjectives(BUCKETS)
                        .register(registry));
        timer.record(millis, TimeUnit.MILLISECONDS);
    }

    /**
     * The model tag of a usage count: only a successful request's model takes one of the bounded
     * places (as for {@link #request}); an estimate for a request that never got an answer (a
     * client that left, any model name it sent) reads {@code other} unless the model is known.
     */
    public String usageModelTag(String model, boolean succeeded) {
        return succeeded ? models.tag(model) : models.known(model);
    }

    /** {@code modelTag} from {@link #usageModelTag}. */
    public void tokens(String key, String modelTag, String provider, String type, long count) {
        if (count > 0) {
            resolve(
                            "tokens",
                            key,
                            modelTag,
                            provider,
                            type,
                            false,
                            series -> Counter.builder("switchboard.tokens")
                                    .tags(
                                            "key", series.key(),
                                            "model", series.model(),
                                            "provider", series.provider(),
                                            "type", series.detail())
                                    .register(registry))
                    .increment(count);
        }
    }

    /** {@code modelTag} from {@link #usageModelTag}. */
    public void cost(String key, String modelTag, String provider, double usd) {
        if (usd > 0) {
            resolve(
                            "cost",
                            key,
                            modelTag,
                            provider,
                            "",
                            false,
                            series -> Counter.builder("switchboard.cost.usd")
                                    .baseUnit("usd")
                                    .tags("key", series.key(), "model", series.model(), "provider", series.provider())
                                    .register(registry))
                    .increment(usd);
        }
    }

    @SuppressWarnings("unchecked")
    private <M extends Meter> M resolve(
            String meter,
            String key,
            String modelTag,
            String provider,
            String type,
            boolean stream,
            Function<Series, M> register) {
        Series series = new Series(meter, keys.tag(key), modelTag, provider, type, stream);
        Meter found = usageMeters.get(series);
        return (M) (found != null ? found : usageMeters.computeIfAbsent(series, register::apply));
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

    /**
     * One tag combination of one meter: its name (empty for the request pair), the bounded key and
     * model, the provider, the status or token type. Written-out equals and hashCode: a record's
     * generated ones go through method-handle chains that showed in the profile of this lookup.
     */
    private record Series(String meter, String key, String model, String provider, String detail, boolean stream) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Series that
                    && stream == that.stream
                    && meter.equals(that.meter)
                    && key.equals(that.key)
                    && model.equals(that.model)
                    && provider.equals(that.provider)
                    && detail.equals(that.detail);
        }

        @Override
        public int hashCode() {
            int hash = meter.hashCode();
            hash = 31 * hash + key.hashCode();
            hash = 31 * hash + model.hashCode();
            hash = 31 * hash + provider.hashCode();
            hash = 31 * hash + detail.hashCode();
            return 31 * hash + Boolean.hashCode(stream);
        }
    }

    /** The request counter and timer, which share their tags. */
    private record RequestMeters(Counter count, Timer duration) {}
}
