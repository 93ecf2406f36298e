package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;

/** Heartbeats merged with a stream's events as the relay merges them, for a client that reads late. */
class HeartbeatsInTheMergeTest {

    private final DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
    private final EventLoop loop = group.next();
    // A period of 0: the wheel never ticks by itself, the test ticks.
    private final Heartbeats beats = new Heartbeats(new HeartbeatWheel(loop, Duration.ZERO), 0, () -> true);

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /**
     * A beat made between two events, while the client read nothing, is kept by the merge. The
     * upstream then starts an oversized event, relayed in pieces: the kept beat must not go out
     * between two of them, where it would end the event in the middle of its data line.
     */
    @Test
    void aBeatKeptForAClientThatWasNotReadingNeverLandsInsideAnEvent() throws Exception {
        TestPublisher<DataBuffer> events = TestPublisher.create();
        Flux<DataBuffer> out = beats.mergedWith(events.flux());

        StringBuilder client = new StringBuilder();
        StepVerifier.create(out, 0)
                .then(this::tick) // the client reads nothing yet: the merge keeps the beat
                .then(() -> events.next(piece("data: {\"image\":\"AAAA")))
                .thenRequest(1)
                .consumeNextWith(buffer -> client.append(text(buffer)))
                .thenRequest(1) // nothing but the kept beat to hand out now
                .then(() -> events.next(piece("BBBB\"}\n\n")))
                .consumeNextWith(buffer -> client.append(text(buffer)))
                .then(this::tick)
                .thenRequest(1)
                .consumeNextWith(buffer -> client.append(text(buffer)))
                .then(() -> {
                    events.complete();
                    beats.end();
                })
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(client.toString()).isEqualTo("data: {\"image\":\"AAAABBBB\"}\n\n: keep-alive\n\n");
    }

    @Test
    void aBlankLineInAnyLineEndingEndsAnEvent() {
        assertThat(endsAnEvent("data: x\n\n")).isTrue();
        assertThat(endsAnEvent("data: x\r\n\r\n")).isTrue();
        assertThat(endsAnEvent("data: x\r\n\n")).isTrue();
        assertThat(endsAnEvent("data: x\r\r")).isTrue();
        assertThat(endsAnEvent("data: x\n\r")).isTrue();
        assertThat(endsAnEvent("data: x\r\n\r")).as("its LF still to come").isTrue();
        assertThat(endsAnEvent("data: x\r")).isFalse();
        assertThat(endsAnEvent("data: x\n")).isFalse();
        assertThat(endsAnEvent("data: x\r\n")).isFalse();
        assertThat(endsAnEvent("data: x")).isFalse();
    }

    private static boolean endsAnEvent(String text) {
        DataBuffer buffer = piece(text);
        try {
            return Heartbeats.endsAnEvent(buffer);
        } finally {
            DataBufferUtils.release(buffer);
        }
    }

    private void tick() {
        try {
            loop.submit(() -> beats.tick(System.nanoTime())).get(1, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static DataBuffer piece(String text) {
        return ResponseRelay.BUFFERS.wrap(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    }

    private static String text(DataBuffer buffer) {
        try {
            return buffer.toString(StandardCharsets.UTF_8);
        } finally {
            DataBufferUtils.release(buffer);
        }
    }
}
