package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.ProxyEndpoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;

/** The relay's events from an upstream that fails while the client is not reading. */
class ResponseRelayEventsTest {

    private static final String FIRST = "data: {\"choices\":[{\"delta\":{\"content\":\"last words\"}}]}\n\n";
    private static final String SECOND = "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";

    /**
     * The upstream sent two events, then reset its connection, while the client had asked for
     * nothing: when it reads, it gets both events and then the error event, not the error alone.
     */
    @Test
    void eventsReadBeforeAnUpstreamFailureReachTheClientBeforeItsErrorEvent() {
        TestPublisher<ByteBuf> upstream = TestPublisher.create();
        ExchangeObservers observers = ExchangeObservers.open(
                List.of(),
                new GatewayExchange(
                        "req-1", ProxyEndpoint.CHAT_COMPLETIONS, System.nanoTime(), System.currentTimeMillis()));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        var events = ResponseRelay.events(
                upstream.flux(), new SseEventSplitter(1024 * 1024), () -> {}, observers, "req-1", failure);

        StepVerifier.create(events, 0)
                .then(() -> {
                    upstream.next(Unpooled.copiedBuffer(FIRST + SECOND, StandardCharsets.UTF_8));
                    upstream.error(new IOException("Connection reset by peer"));
                })
                .thenRequest(10)
                .assertNext(buffer -> assertThat(text(buffer)).isEqualTo(FIRST + SECOND))
                .assertNext(buffer -> assertThat(text(buffer))
                        .startsWith("data: {\"error\":{")
                        .contains("req-1"))
                .expectError()
                .verify(Duration.ofSeconds(5));
        assertThat(failure.get()).isInstanceOf(IOException.class);
    }

    /**
     * The client leaves before it read what the upstream sent before failing: the stream's outcome
     * is still the upstream's failure (the usage row, the metrics), not a client that closed.
     */
    @Test
    void aClientLeavingBeforeTheFailureReachedItStillSeesItRecorded() {
        TestPublisher<ByteBuf> upstream = TestPublisher.create();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        var events = ResponseRelay.events(
                        upstream.flux(),
                        new SseEventSplitter(1024 * 1024),
                        () -> {},
                        ExchangeObservers.open(
                                List.of(),
                                new GatewayExchange(
                                        "req-2",
                                        ProxyEndpoint.CHAT_COMPLETIONS,
                                        System.nanoTime(),
                                        System.currentTimeMillis())),
                        "req-2",
                        failure)
                // What the relay's discard hook does for the events never sent.
                .doOnDiscard(DataBuffer.class, DataBufferUtils::release);

        StepVerifier.create(events, 0)
                .then(() -> {
                    upstream.next(Unpooled.copiedBuffer(FIRST, StandardCharsets.UTF_8));
                    upstream.error(new IOException("Connection reset by peer"));
                })
                .thenCancel()
                .verify(Duration.ofSeconds(5));
        assertThat(failure.get()).isInstanceOf(IOException.class);
    }

    private static String text(DataBuffer buffer) {
        try {
            return buffer.toString(StandardCharsets.UTF_8);
        } finally {
            DataBufferUtils.release(buffer);
        }
    }
}
