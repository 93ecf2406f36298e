package io.switchboard.usage;

import io.switchboard.exchange.ExchangeObserver;
import io.switchboard.exchange.ExchangeObserverFactory;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.ProxyRequest;
import java.util.List;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Opens a {@link UsageObserver} on every relayed request with a body (chat, completions, embeddings),
 * journals its admission (when the crash journal is on) and, once the upstream names it, the
 * generation id settlement would need if a crash cut the request off; when it ends hands its record
 * to the journal, the ledger, the listeners (limits, metrics) and, if the numbers are only an
 * estimate, to settlement. The model listing is not a billable request and is
 * not recorded.
 */
public final class UsageCapture implements ExchangeObserverFactory {

    private static final Logger log = LoggerFactory.getLogger(UsageCapture.class);

    private final ModelPrices prices;
    private final UsageLedger ledger;
    private final List<UsageListener> listeners;
    private final @Nullable GenerationSettler settler;
    private final @Nullable UsageJournal journal;

    public UsageCapture(
            ModelPrices prices,
            UsageLedger ledger,
            List<UsageListener> listeners,
            @Nullable GenerationSettler settler,
            @Nullable UsageJournal journal) {
        this.prices = prices;
        this.ledger = ledger;
        this.listeners = List.copyOf(listeners);
        this.settler = settler;
        this.journal = journal;
    }

    @Override
    public @Nullable ExchangeObserver open(GatewayExchange exchange) {
        ProxyRequest request = exchange.request();
        if (request == null) {
            return null;
        }
        for (UsageListener listener : listeners) {
            try {
                listener.onOpen(exchange);
            } catch (RuntimeException e) {
                log.error(
                        "Usage listener {} failed on open", listener.getClass().getSimpleName(), e);
            }
        }
        String entryId = UsageRecord.newEntryId();
        ledger.expectRecord();
        // The admission goes to the crash journal now; the upstream call waits until it is in the file.
        Mono<Void> admitted = journal == null ? null : journal.admit(JournalAdmission.of(entryId, exchange, request));
        return new UsageObserver(
                exchange,
                request,
                prices,
                entryId,
                admitted,
                journalGeneration(exchange, entryId),
                record -> finish(exchange, record));
    }

    /** Only a request that settlement could correct needs its generation id in the crash journal. */
    private @Nullable Consumer<String> journalGeneration(GatewayExchange exchange, String entryId) {
        UsageJournal current = journal;
        GenerationSettler settles = settler;
        if (current == null || settles == null || !settles.settles(exchange.provider())) {
            return null;
        }
        return generationId -> current.generation(entryId, generationId);
    }

    private void finish(GatewayExchange exchange, UsageRecord record) {
        if (journal != null) {
            journal.finished(record);
        }
        ledger.recordExpected(record);
        for (UsageListener listener : listeners) {
            try {
                listener.onUsage(exchange, record);
            } catch (RuntimeException e) {
                log.error("Usage listener {} failed", listener.getClass().getSimpleName(), e);
            }
        }
        GenerationSettler current = settler;
        if (current != null) {
            current.settleLater(record);
        }
    }
}
