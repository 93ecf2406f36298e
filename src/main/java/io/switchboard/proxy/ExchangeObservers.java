package io.switchboard.proxy;

import io.netty.buffer.ByteBuf;
import io.switchboard.exchange.ExchangeObserver;
import io.switchboard.exchange.ExchangeObserverFactory;
import io.switchboard.exchange.ExchangeOutcome;
import io.switchboard.exchange.GatewayExchange;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import reactor.core.publisher.Mono;

/**
 * The observers of one exchange, called in order. Guarantees what the SPI promises: {@code onFinish}
 * exactly once, and an observer that throws never breaks the relay (it is logged and skipped).
 */
final class ExchangeObservers {

    private static final Logger log = LoggerFactory.getLogger(ExchangeObservers.class);
    private static final ExchangeObserver[] NONE = new ExchangeObserver[0];

    private final ExchangeObserver[] observers;
    private final GatewayExchange exchange;
    private final AtomicBoolean finished = new AtomicBoolean();
    private final AtomicBoolean firstByte = new AtomicBoolean();

    private ExchangeObservers(ExchangeObserver[] observers, GatewayExchange exchange) {
        this.observers = observers;
        this.exchange = exchange;
    }

    static ExchangeObservers open(List<ExchangeObserverFactory> factories, GatewayExchange exchange) {
        if (factories.isEmpty()) {
            return new ExchangeObservers(NONE, exchange);
        }
        ExchangeObserver[] opened = new ExchangeObserver[factories.size()];
        int count = 0;
        for (ExchangeObserverFactory factory : factories) {
            ExchangeObserver observer = factory.open(exchange);
            if (observer != null) {
                opened[count++] = observer;
            }
        }
        return new ExchangeObservers(
                count == opened.length ? opened : java.util.Arrays.copyOf(opened, count), exchange);
    }

    /** What the upstream call waits for: every observer's {@code beforeUpstream}, or null for nothing. */
    @Nullable
    Mono<Void> beforeUpstream() {
        Mono<Void> all = null;
        for (ExchangeObserver observer : observers) {
            Mono<Void> one = observer.beforeUpstream();
            if (one != null) {
                all = all == null ? one : all.and(one);
            }
        }
        return all;
    }

    void onUpstreamResponse(int status, HttpHeaders headers) {
        for (ExchangeObserver observer : observers) {
            try {
                observer.onUpstreamResponse(status, headers);
            } catch (RuntimeException e) {
                log.warn(
                        "Exchange observer {} failed on response",
                        observer.getClass().getSimpleName(),
                        e);
            }
        }
    }

    /** False when an observer wants the event kept from the client. */
    boolean onEvent(ByteBuf event) {
        boolean relay = true;
        for (ExchangeObserver observer : observers) {
            try {
                relay &= observer.onEvent(event.duplicate());
            } catch (RuntimeException e) {
                log.warn(
                        "Exchange observer {} failed on an event",
                        observer.getClass().getSimpleName(),
                        e);
            }
        }
        return relay;
    }

    void onBodyChunk(ByteBuf chunk) {
        for (ExchangeObserver observer : observers) {
            try {
                observer.onBodyChunk(chunk.duplicate());
            } catch (RuntimeException e) {
                log.warn(
                        "Exchange observer {} failed on a chunk",
                        observer.getClass().getSimpleName(),
                        e);
            }
        }
    }

    /** Whether a byte of the answer was seen. */
    boolean sawFirstByte() {
        return firstByte.get();
    }

    void onFirstByte() {
        if (!firstByte.compareAndSet(false, true)) {
            return;
        }
        for (ExchangeObserver observer : observers) {
            try {
                observer.onFirstByte();
            } catch (RuntimeException e) {
                log.warn(
                        "Exchange observer {} failed on first byte",
                        observer.getClass().getSimpleName(),
                        e);
            }
        }
    }

    void finish(ExchangeOutcome outcome) {
        if (!finished.compareAndSet(false, true)) {
            return;
        }
        if (outcome.kind() == ExchangeOutcome.Kind.CLIENT_CLOSED) {
            exchange.clientClosed(true);
        }
        for (ExchangeObserver observer : observers) {
            try {
                observer.onFinish(outcome);
            } catch (RuntimeException e) {
                log.warn(
                        "Exchange observer {} failed on finish",
                        observer.getClass().getSimpleName(),
                        e);
            }
        }
    }
}
