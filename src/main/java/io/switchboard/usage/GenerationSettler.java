package io.switchboard.usage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.switchboard.upstream.Provider;
import io.switchboard.upstream.ProviderRegistry;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Replaces estimated usage with the upstream's own accounting. Providers behind OpenRouter keep
 * generating (and billing) after a client disconnects, and a stream cut short never delivers its
 * usage event; OpenRouter's {@code GET /generation?id=} has the final numbers a little later. The
 * look-up runs in the background after {@code settlement-delay}, retried with backoff while the
 * generation is not known yet; the ledger row is then corrected through the ledger's queue.
 *
 * <p>The look-ups wait in memory, so a stop interrupts those not done yet. The ledger keeps what
 * they need (an estimated row with its generation id), so each start resumes the settlements of the
 * rows created in the {@code settlement-resume-window} before it, once the rows earlier runs left are
 * written. A generation is settled once per process however it is asked for (a crash-recovered row
 * is also found by the resume), since each settlement also corrects the key's spend.
 */
public final class GenerationSettler implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(GenerationSettler.class);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Look-ups in flight at most: a flood of disconnects must not pile up timers without bound. */
    private static final int MAX_PENDING = 10_000;

    /** Rows a start resumes at most: half the look-ups, so that new settlements still find room. */
    private static final int RESUMED_AT_MOST = MAX_PENDING / 2;

    private final ProviderRegistry providers;
    private final UsageLedger ledger;
    private final List<UsageListener> listeners;
    private final Set<String> settled;
    private final Duration delay;
    private final int attempts;
    private final AtomicInteger pending = new AtomicInteger();
    /** Whether the look-ups being full was logged since they last had room: once per episode. */
    private final java.util.concurrent.atomic.AtomicBoolean fullLogged =
            new java.util.concurrent.atomic.AtomicBoolean();
    /** Generations asked for by this process: asked once (in flight or done), for an hour. */
    private final Cache<String, Boolean> asked = Caffeine.newBuilder()
            .maximumSize(MAX_PENDING * 10L)
            .expireAfterWrite(Duration.ofHours(1))
            .build();

    private final UsageRepository rows;
    private final BooleanSupplier rowsComplete;
    private final Duration resumeWindow;
    private volatile @Nullable Disposable resuming;
    private volatile boolean running;
    /** Rows a crash left estimated, waiting for {@code rowsComplete} (see {@link #settleEarlierRow}). */
    private final Queue<UsageRecord> earlierRows = new ConcurrentLinkedQueue<>();

    private volatile boolean earlierRowsReady;

    /**
     * @param settledProviders the providers whose rows are settled: {@code gateway.usage.settle-providers}, and
     *     the demo upstream when it runs (it answers the look-up as OpenRouter does)
     * @param rows where the settlements of earlier runs are found at start
     * @param rowsComplete whether the rows earlier runs left (crash journal, spill file) are written, and
     *     whatever else must see them before they are settled (the budgets' seed, which would count a
     *     settled correction a second time)
     */
    public GenerationSettler(
            ProviderRegistry providers,
            UsageLedger ledger,
            List<UsageListener> listeners,
            UsageProperties properties,
            Collection<String> settledProviders,
            UsageRepository rows,
            BooleanSupplier rowsComplete) {
        this.providers = providers;
        this.ledger = ledger;
        this.listeners = List.copyOf(listeners);
        this.settled = Set.copyOf(settledProviders);
        this.delay = properties.settlementDelay();
        this.attempts = Math.max(1, properties.settlementAttempts());
        this.rows = rows;
        this.rowsComplete = rowsComplete;
        this.resumeWindow = properties.settlementResumeWindow();
    }

    public int pending() {
        return pending.get();
    }

    /** Whether rows of this provider can be settled: the ones worth keeping a generation id for. */
    boolean settles(@Nullable String provider) {
        return provider != null && settled.contains(provider);
    }

    /**
     * Looks the row's generation up later, when its numbers are an estimate (a client that left, a
     * stream without usage, a request a crash cut off) and its provider answers the look-up.
     */
    public void settleLater(UsageRecord record) {
        String generationId = record.generationId();
        Provider provider = providers.byName(record.provider());
        if (!record.needsSettlement() || generationId == null || provider == null || !settles(provider.name())) {
            return;
        }
        if (asked.asMap().putIfAbsent(generationId, Boolean.TRUE) != null) {
            return;
        }
        if (pending.incrementAndGet() > MAX_PENDING) {
            pending.decrementAndGet();
            asked.invalidate(generationId);
            if (!fullLogged.getAndSet(true)) {
                log.warn("{} usage settlements are waiting already: more rows stay estimated", MAX_PENDING);
            }
            return;
        }
        fullLogged.set(false);
        Mono.delay(delay)
                .then(Mono.defer(() -> lookup(provider, generationId)))
                .retryWhen(Retry.backoff(attempts - 1, delay).maxBackoff(delay.multipliedBy(20)))
                .doFinally(signal -> pending.decrementAndGet())
                .subscribe(
                        generation -> apply(record, generation),
                        error -> log.info(
                                "Usage of request {} stays estimated: generation look-up failed ({})",
                                record.requestId(),
                                error.toString()));
    }

    /**
     * A row an earlier run left estimated, recovered from its crash journal: settled as {@link
     * #settleLater} does, but only once {@code rowsComplete} says the rows of earlier runs may be.
     */
    public void settleEarlierRow(UsageRecord record) {
        if (earlierRowsReady) {
            settleLater(record);
            return;
        }
        earlierRows.add(record);
        if (earlierRowsReady) {
            // The rows became ready between the check and the add.
            settleEarlierRows();
        }
    }

    private void settleEarlierRows() {
        earlierRowsReady = true;
        for (UsageRecord record; (record = earlierRows.poll()) != null; ) {
            settleLater(record);
        }
    }

    @Override
    public void start() {
        running = true;
        boolean resume = !(resumeWindow.isZero() || resumeWindow.isNegative());
        Instant startedAt = Instant.now();
        // Retried until it succeeds, as the budgets' seeding is: the rows may wait for a database
        // that is down at start-up, and a read that fails once must not lose the settlements.
        resuming = Mono.defer(() -> {
                    if (!rowsComplete.getAsBoolean()) {
                        return Mono.<List<UsageRecord>>error(
                                new IllegalStateException("rows of earlier runs are not yet written"));
                    }
                    settleEarlierRows();
                    return resume
                            ? rows.unsettled(startedAt.minus(resumeWindow), startedAt, settled, RESUMED_AT_MOST)
                                    .collectList()
                            : Mono.just(List.<UsageRecord>of());
                })
                .retryWhen(Retry.backoff(Long.MAX_VALUE, RESUME_RETRY).maxBackoff(RESUME_RETRY_MAX))
                .subscribe(unsettled -> {
                    unsettled.forEach(this::settleLater);
                    if (!unsettled.isEmpty()) {
                        log.info(
                                "Resumed the settlement of {} usage row(s) an earlier run left estimated",
                                unsettled.size());
                    }
                });
    }

    private static final Duration RESUME_RETRY = Duration.ofMillis(500);
    private static final Duration RESUME_RETRY_MAX = Duration.ofSeconds(30);

    @Override
    public void stop() {
        running = false;
        Disposable current = resuming;
        if (current != null) {
            current.dispose();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    private Mono<JsonNode> lookup(Provider provider, String generationId) {
        URI uri = provider.baseUrl()
                .resolve(provider.pathFor("/generation") + "?id="
                        + URLEncoder.encode(generationId, StandardCharsets.UTF_8));
        return provider.httpClient()
                .headers(provider::writeCredential)
                .responseTimeout(Duration.ofSeconds(10))
                .get()
                .uri(uri)
                .responseSingle((response, body) -> {
                    int status = response.status().code();
                    if (status != 200) {
                        return body.then(
                                Mono.error(new IllegalStateException("generation look-up answered " + status)));
                    }
                    return body.asByteArray();
                })
                .map(bytes -> JSON.readTree(bytes).path("data"))
                .flatMap(data -> data.isObject()
                        ? Mono.just(data)
                        : Mono.error(new IllegalStateException("generation look-up without data")));
    }

    /**
     * The native counts first: a response's own {@code usage} counts with the model's native tokenizer
     * (OpenRouter's usage accounting), so a settled row must too to compare with the others; the
     * normalized {@code tokens_*} only when a generation has no native count.
     */
    private void apply(UsageRecord before, JsonNode generation) {
        long prompt = firstLong(generation, "native_tokens_prompt", "tokens_prompt", before.promptTokens());
        long completion =
                firstLong(generation, "native_tokens_completion", "tokens_completion", before.completionTokens());
        long cached = firstLong(generation, "native_tokens_cached", "tokens_cached", before.cachedTokens());
        long reasoning = firstLong(generation, "native_tokens_reasoning", "tokens_reasoning", before.reasoningTokens());
        JsonNode cost = generation.path("total_cost");
        BigDecimal reported = cost.isNumber() ? UsageRecord.reportedCost(cost.decimalValue()) : null;
        BigDecimal costUsd = reported != null ? reported : before.costUsd();
        UsageRecord after = before.settled(prompt, completion, cached, reasoning, costUsd);
        ledger.correct(after);
        for (UsageListener listener : listeners) {
            try {
                listener.onSettled(before, after);
            } catch (RuntimeException e) {
                log.error(
                        "Usage listener {} failed on settlement",
                        listener.getClass().getSimpleName(),
                        e);
            }
        }
    }

    private static long firstLong(JsonNode node, String name, String fallback, long otherwise) {
        JsonNode value = node.path(name);
        if (!value.isNumber()) {
            value = node.path(fallback);
        }
        return value.isNumber() ? value.asLong() : otherwise;
    }
}
