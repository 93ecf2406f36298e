package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoop;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import org.springframework.core.io.buffer.DataBuffer;

class HeartbeatsTest {

    private static final Duration PERIOD = Duration.ofMillis(100);

    private final DefaultEventLoopGroup group = new DefaultEventLoopGroup(1);
    private final EventLoop loop = group.next();
    private final HeartbeatWheel wheel = new HeartbeatWheel(loop, PERIOD);

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    @Test
    void aQuietStreamGetsACommentEveryPeriod() {
        Recorder client = new Recorder(Long.MAX_VALUE);
        beats(() -> true).subscribe(client);

        await().atMost(Duration.ofSeconds(2)).until(() -> client.beats() >= 3);
        assertThat(client.signals).allMatch(": keep-alive\n\n"::equals);
    }

    @Test
    void noCommentWhileTheUpstreamKeepsSendingOrInsideAnEvent() throws Exception {
        AtomicBoolean between = new AtomicBoolean(false);
        Heartbeats beats = beats(between::get);
        Recorder client = new Recorder(Long.MAX_VALUE);
        beats.subscribe(client);

        Thread.sleep(4 * PERIOD.toMillis()); // quiet, but inside an event
        assertThat(client.beats()).isZero();

        between.set(true);
        // Between events, but the upstream is not quiet: a comment may only follow a full period
        // without a touch. Judged by when each came, not by a count: a test thread held off the
        // core for a period (a busy machine) does leave the upstream quiet that long.
        List<Long> touches = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 20; i++) {
            beats.touch();
            touches.add(System.nanoTime());
            Thread.sleep(PERIOD.toMillis() / 5);
        }
        for (long beat : client.beatNanos) {
            long lastTouch =
                    touches.stream().filter(t -> t <= beat).max(Long::compare).orElseThrow();
            assertThat(Duration.ofNanos(beat - lastTouch))
                    .as("a comment after the upstream's last send")
                    .isGreaterThanOrEqualTo(PERIOD.minusMillis(5));
        }
        int before = client.beats();

        await().atMost(Duration.ofSeconds(2)).until(() -> client.beats() > before);
    }

    @Test
    void aPeriodOfZeroSendsNoComment() throws Exception {
        HeartbeatWheel off = new HeartbeatWheel(loop, Duration.ZERO);
        Recorder client = new Recorder(Long.MAX_VALUE);
        Heartbeats beats = new Heartbeats(off, 0, () -> true);
        beats.subscribe(client);

        Thread.sleep(3 * PERIOD.toMillis());
        assertThat(client.beats()).isZero();
        assertThat(loop.submit(off::size).get(1, TimeUnit.SECONDS))
                .as("streams on the wheel")
                .isZero();
        beats.end(); // the events' end still completes the comments
        await().atMost(Duration.ofSeconds(2)).until(() -> client.completed);
    }

    @Test
    void aBeatWithoutDemandIsSkippedNotQueued() throws Exception {
        // A wheel that never ticks by itself: the test drives the beats' ticks, each a period apart.
        HeartbeatWheel still = new HeartbeatWheel(loop, Duration.ZERO);
        Heartbeats beats = new Heartbeats(still, PERIOD.toNanos(), () -> true);
        long start = System.nanoTime();
        Recorder client = new Recorder(0);
        beats.subscribe(client);

        for (int period = 1; period <= 5; period++) {
            tick(beats, start + period * PERIOD.toNanos());
        }
        assertThat(client.beats()).as("beats due while nothing was asked").isZero();

        client.subscription.request(5);
        tick(beats, start + 6 * PERIOD.toNanos());
        assertThat(client.beats())
                .as("five asked after five skipped beats, one period of silence since")
                .isEqualTo(1);
    }

    @Test
    void theEndOfTheEventsCompletesItAndFreesItsSlot() throws Exception {
        Heartbeats beats = beats(() -> true);
        Recorder client = new Recorder(Long.MAX_VALUE);
        beats.subscribe(client);
        await().until(() -> wheelSize() == 1);

        beats.end();

        await().atMost(Duration.ofSeconds(2)).until(() -> client.completed);
        assertThat(wheelSize()).isZero();
        int atTheEnd = client.beats();
        Thread.sleep(3 * PERIOD.toMillis());
        assertThat(client.beats()).as("beats after the end").isEqualTo(atTheEnd);
    }

    @Test
    void eventsThatEndedBeforeTheSubscriptionCompleteIt() throws Exception {
        Heartbeats beats = beats(() -> true);
        beats.end();
        Recorder client = new Recorder(Long.MAX_VALUE);

        beats.subscribe(client);

        await().atMost(Duration.ofSeconds(2)).until(() -> client.completed);
        assertThat(wheelSize()).isZero();
    }

    @Test
    void aSubscriberThatCancelsGetsNothingMoreAndFreesItsSlot() throws Exception {
        Recorder client = new Recorder(Long.MAX_VALUE);
        Recorder other = new Recorder(Long.MAX_VALUE);
        beats(() -> true).subscribe(client);
        beats(() -> true).subscribe(other);
        await().until(() -> wheelSize() == 2);

        client.subscription.cancel();

        await().until(() -> wheelSize() == 1);
        int before = client.beats();
        await().atMost(Duration.ofSeconds(2)).until(() -> other.beats() >= 2);
        assertThat(client.beats()).isEqualTo(before);
        assertThat(client.completed).isFalse();
    }

    private Heartbeats beats(java.util.function.BooleanSupplier betweenEvents) {
        return new Heartbeats(wheel, PERIOD.toNanos(), betweenEvents);
    }

    /** One tick of {@code beats} at {@code nanos}, on the loop, as its wheel would: returns once done. */
    private void tick(Heartbeats beats, long nanos) throws Exception {
        loop.submit(() -> beats.tick(nanos)).get(1, TimeUnit.SECONDS);
    }

    private int wheelSize() throws Exception {
        return loop.submit(wheel::size).get(1, TimeUnit.SECONDS);
    }

    private static final class Recorder implements Subscriber<DataBuffer> {
        final List<String> signals = new CopyOnWriteArrayList<>();
        final List<Long> beatNanos = new CopyOnWriteArrayList<>();
        final long initialDemand;
        volatile Subscription subscription;
        volatile boolean completed;

        Recorder(long initialDemand) {
            this.initialDemand = initialDemand;
        }

        int beats() {
            return signals.size();
        }

        @Override
        public void onSubscribe(Subscription s) {
            subscription = s;
            if (initialDemand > 0) {
                s.request(initialDemand);
            }
        }

        @Override
        public void onNext(DataBuffer buffer) {
            beatNanos.add(System.nanoTime());
            signals.add(buffer.toString(StandardCharsets.US_ASCII));
        }

        @Override
        public void onError(Throwable error) {
            signals.add("error: " + error);
        }

        @Override
        public void onComplete() {
            completed = true;
        }
    }
}
