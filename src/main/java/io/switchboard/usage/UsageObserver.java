package io.switchboard.usage;

import io.netty.buffer.ByteBuf;
import io.switchboard.exchange.CallerKey;
import io.switchboard.exchange.ExchangeObserver;
import io.switchboard.exchange.ExchangeOutcome;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.ProxyRequest;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import reactor.core.publisher.Mono;

/**
 * Watches one relayed exchange and turns what passes into one {@link UsageRecord}. Holds only a few
 * counters and identifiers, never the body. Usage comes from the upstream's own report when one
 * passes; otherwise (a client that left, a stream cut short) completion tokens are counted from the
 * content events relayed so far and the record is marked estimated, to be settled later.
 */
final class UsageObserver implements ExchangeObserver {

    static final String ANONYMOUS = "anonymous";

    private final GatewayExchange exchange;
    private final ProxyRequest request;
    private final ModelPrices prices;
    private final Consumer<UsageRecord> sink;
    private final String entryId;
    private final @Nullable Mono<Void> admitted;
    // Cleared once told: the crash journal needs the generation id once, as early as it is known.
    private @Nullable Consumer<String> generationKnown;
    // Made on first use: a stream's events are scanned one by one (SseEventScanner), never as a body.
    private @Nullable UsageJsonScanner body;

    private @Nullable String generationId;
    private @Nullable String responseId;
    private @Nullable String servedModel;
    private @Nullable String upstreamProvider;
    private boolean usageSeen;
    private long promptTokens = -1;
    private long completionTokens = -1;
    private long totalTokens = -1;
    private long cachedTokens = -1;
    private long reasoningTokens = -1;
    private @Nullable BigDecimal cost;
    private boolean inBandError;
    // Only a 2xx answer can fail "in band": an error status's JSON body is an ordinary upstream error.
    private boolean answeredOk;
    private long contentEvents;
    private long firstByteNanos;
    private long firstTokenNanos;
    private boolean finished;

    UsageObserver(GatewayExchange exchange, ProxyRequest request, ModelPrices prices, Consumer<UsageRecord> sink) {
        this(exchange, request, prices, UsageRecord.newEntryId(), null, null, sink);
    }

    /**
     * @param entryId the row's id, chosen at admission so the crash journal's entries name the same row
     * @param admitted completes when the crash journal holds the admission (null without a journal)
     * @param generationKnown told the generation id once, from the response headers or a stream's
     *     first event, so the crash journal can keep it (null when nothing needs it)
     */
    UsageObserver(
            GatewayExchange exchange,
            ProxyRequest request,
            ModelPrices prices,
            String entryId,
            @Nullable Mono<Void> admitted,
            @Nullable Consumer<String> generationKnown,
            Consumer<UsageRecord> sink) {
        this.exchange = exchange;
        this.request = request;
        this.prices = prices;
        this.entryId = entryId;
        this.admitted = admitted;
        this.generationKnown = generationKnown;
        this.sink = sink;
    }

    @Override
    public @Nullable Mono<Void> beforeUpstream() {
        return admitted;
    }

    @Override
    public void onUpstreamResponse(int status, HttpHeaders headers) {
        answeredOk = status / 100 == 2;
        String id = headers.getFirst("X-Generation-Id");
        if (id != null && !id.isBlank() && id.length() <= 200) {
            generationId = id;
            tellGeneration(id);
        }
    }

    private void tellGeneration(String id) {
        Consumer<String> listener = generationKnown;
        if (listener != null) {
            generationKnown = null;
            listener.accept(id);
        }
    }

    @Override
    public boolean onEvent(ByteBuf event) {
        UsageJsonScanner scanned = SseEventScanner.scan(event);
        if (scanned == null) {
            return true;
        }
        take(scanned);
        if (generationKnown != null && responseId != null) {
            // No X-Generation-Id: OpenRouter's stream events carry the generation id as their own id.
            tellGeneration(responseId);
        }
        if (scanned.content) {
            contentEvents++;
            if (firstTokenNanos == 0) {
                firstTokenNanos = System.nanoTime();
            }
        }
        // The gateway asked for this event on the client's behalf: the client did not, so it never sees it.
        return !(request.usageInjected() && scanned.usageOnly());
    }

    @Override
    public void onBodyChunk(ByteBuf chunk) {
        UsageJsonScanner scanner = body;
        if (scanner == null) {
            scanner = new UsageJsonScanner();
            body = scanner;
        }
        if (scanner.failed()) {
            return;
        }
        int length = chunk.readableBytes();
        if (chunk.hasArray()) {
            scanner.feed(chunk.array(), chunk.arrayOffset() + chunk.readerIndex(), length);
        } else {
            scanner.feed(ScanScratch.copy(chunk), 0, length);
        }
        if (scanner.error) {
            markFailedInBand();
        }
    }

    @Override
    public void onFirstByte() {
        if (firstByteNanos == 0) {
            firstByteNanos = System.nanoTime();
        }
    }

    @Override
    public void onFinish(ExchangeOutcome outcome) {
        if (finished) {
            return;
        }
        finished = true;
        UsageJsonScanner scanner = body;
        if (scanner != null) {
            scanner.end();
            scanner.close();
            take(scanner);
            body = null;
        }
        sink.accept(record(outcome, System.nanoTime()));
    }

    private void take(UsageJsonScanner scanned) {
        if (responseId == null) {
            responseId = scanned.id;
        }
        if (scanned.model != null) {
            servedModel = scanned.model;
        }
        if (scanned.provider != null) {
            upstreamProvider = scanned.provider;
        }
        if (scanned.error && !inBandError) {
            inBandError = true;
            markFailedInBand();
        }
        // A malformed event's numbers may be cut short: the row keeps to an estimate (and settlement).
        if (scanned.usageSeen && !scanned.failed()) {
            usageSeen = true;
            promptTokens = pick(scanned.promptTokens, promptTokens);
            completionTokens = pick(scanned.completionTokens, completionTokens);
            totalTokens = pick(scanned.totalTokens, totalTokens);
            cachedTokens = pick(scanned.cachedTokens, cachedTokens);
            reasoningTokens = pick(scanned.reasoningTokens, reasoningTokens);
            if (scanned.cost != null) {
                cost = scanned.cost;
            }
        }
    }

    /** Tells the metrics, while the answer is still passing (they count it when it ends). */
    private void markFailedInBand() {
        if (answeredOk) {
            exchange.failedInBand(true);
        }
    }

    private static long pick(long fresh, long previous) {
        return fresh >= 0 ? fresh : previous;
    }

    UsageRecord record(ExchangeOutcome outcome, long endNanos) {
        UsageOutcome result = UsageOutcome.of(outcome.kind(), inBandError);
        long prompt;
        long completion;
        boolean estimated;
        if (usageSeen) {
            prompt = Math.max(promptTokens, 0);
            completion = Math.max(completionTokens, 0);
            estimated = false;
        } else if (mayHaveBilled(outcome.kind())) {
            // No report reached us: count what was relayed, and say it is a guess.
            prompt = request.promptTokenEstimate();
            completion = contentEvents;
            estimated = true;
        } else {
            prompt = 0;
            completion = 0;
            estimated = false;
        }
        long total = usageSeen && totalTokens >= 0 ? totalTokens : prompt + completion;
        BigDecimal costUsd = cost;
        String costSource = "upstream";
        if (costUsd == null) {
            ModelPrice price = prices.priceOf(servedModel != null ? servedModel : request.model());
            if (price == null && servedModel != null) {
                price = prices.priceOf(request.model());
            }
            costUsd = price == null || prompt + completion == 0
                    ? null
                    : UsageRecord.pricedCost(price.cost(prompt, completion));
            costSource = costUsd == null ? "none" : "priced";
        }
        CallerKey caller = exchange.caller();
        String provider = exchange.provider();
        long start = exchange.startNanos();
        return new UsageRecord(
                entryId,
                exchange.requestId(),
                caller == null ? ANONYMOUS : caller.id(),
                caller == null ? ANONYMOUS : caller.name(),
                request.endpoint().label(),
                request.requestedModel(),
                request.model(),
                servedModel,
                provider == null ? "" : provider,
                upstreamProvider,
                generationId != null ? generationId : responseId,
                request.stream(),
                outcome.status(),
                result,
                prompt,
                completion,
                total,
                Math.max(cachedTokens, 0),
                Math.max(reasoningTokens, 0),
                estimated,
                costUsd,
                costSource,
                millis(endNanos - start),
                firstByteNanos == 0 ? null : millis(firstByteNanos - start),
                firstTokenNanos != 0
                        ? Long.valueOf(millis(firstTokenNanos - start))
                        : !request.stream() && firstByteNanos != 0
                                ? Long.valueOf(millis(firstByteNanos - start))
                                : null,
                Instant.ofEpochMilli(exchange.startEpochMillis()));
    }

    /** Outcomes after which the upstream may have generated (and billed) tokens we never saw counted. */
    private boolean mayHaveBilled(ExchangeOutcome.Kind kind) {
        return switch (kind) {
            case COMPLETED, CLIENT_CLOSED, UPSTREAM_FAILED_MIDWAY, INTERRUPTED -> true;
            default -> false;
        };
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(Math.max(nanos, 0));
    }
}
