package io.switchboard.exchange;

import io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;
import reactor.core.publisher.Mono;

/**
 * Watches one relayed exchange as its bytes pass, without holding them: usage capture, metrics and
 * limit settlement plug in here so the proxy never changes for them. Callbacks run on the event loop:
 * they must not block, and must not retain or move the buffers they are shown.
 */
public interface ExchangeObserver {

    /**
     * Something the upstream call must wait for (the usage journal holding the admission), or null.
     * Must complete without error.
     */
    default @Nullable Mono<Void> beforeUpstream() {
        return null;
    }

    /** The upstream's status and headers, before anything is sent to the client. */
    default void onUpstreamResponse(int status, HttpHeaders headers) {}

    /**
     * One complete server-sent event (its terminating blank line included), before it is relayed.
     *
     * @return false to keep this event from the client (e.g. a usage event the client did not ask for)
     */
    default boolean onEvent(ByteBuf event) {
        return true;
    }

    /** One chunk of a non-streaming answer, before it is relayed. */
    default void onBodyChunk(ByteBuf chunk) {}

    /** The first byte of the answer reached the client's connection. */
    default void onFirstByte() {}

    /** The exchange ended; called exactly once, whatever the way it ended (cancel included). */
    default void onFinish(ExchangeOutcome outcome) {}
}
