package io.switchboard.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import org.springframework.core.io.buffer.DataBuffer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;

/**
 * The heartbeat comments of one event stream, as a publisher merged with its events
 * ({@link #mergedWith}): one {@code ": keep-alive"} comment whenever the upstream has been silent for
 * a period, the merge has room for it, and the stream is between two events. Driven by its loop's
 * {@link HeartbeatWheel}; ends when {@link #end()} is called (the events ended) or its subscriber
 * cancels. A beat that finds no demand is skipped, not queued; the one beat the merge may keep for a
 * client that is not reading goes out only after a buffer that ended its event ({@link #test}).
 *
 * <p>Why by hand: Reactor's {@code Flux.interval} with {@code filter}, {@code map},
 * {@code onBackpressureDrop} and {@code takeUntilOther} did the same with a timer and six operators
 * per stream, kept for as long as the stream is open; this is one small object per stream. Signals
 * are sent only from the wheel's loop, so they are serial as Reactive Streams requires.
 */
final class Heartbeats implements Publisher<DataBuffer>, Subscription, Predicate<DataBuffer> {

    private static final ByteBuf COMMENT = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer().writeBytes(": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII)));

    private static final AtomicLongFieldUpdater<Heartbeats> DEMAND =
            AtomicLongFieldUpdater.newUpdater(Heartbeats.class, "demand");

    private final HeartbeatWheel wheel;
    private final long periodNanos;
    private final BooleanSupplier betweenEvents;
    private volatile long demand;
    private volatile long lastNanos = System.nanoTime();
    private volatile boolean done;
    private boolean ended;
    private volatile @Nullable Subscriber<? super DataBuffer> actual;
    private volatile @Nullable DataBuffer lastBeat;
    /** Whether the last buffer that left for the client ended its event; read and written by {@link #test}. */
    private boolean clientBetweenEvents = true;

    /** This stream's place in the wheel's list, or -1; read and written on the wheel's loop only. */
    int slot = -1;

    Heartbeats(HeartbeatWheel wheel, long periodNanos, BooleanSupplier betweenEvents) {
        this.wheel = wheel;
        this.periodNanos = periodNanos;
        this.betweenEvents = betweenEvents;
    }

    /** The upstream sent something: the silence starts again. */
    void touch() {
        lastNanos = System.nanoTime();
    }

    /** The events ended: complete, on the wheel's loop, unless the subscriber already left. */
    void end() {
        wheel.onLoop(this::complete);
    }

    @Override
    public void subscribe(Subscriber<? super DataBuffer> subscriber) {
        if (actual != null) {
            Operators.error(subscriber, new IllegalStateException("Heartbeats allow one subscriber"));
            return;
        }
        actual = subscriber;
        subscriber.onSubscribe(this);
        // On the loop, in order with end(): events that ended before this subscription complete it.
        wheel.onLoop(() -> {
            if (ended) {
                complete();
            } else if (!done) {
                wheel.add(this);
            }
        });
    }

    @Override
    public void request(long n) {
        if (Operators.validate(n)) {
            Operators.addCap(DEMAND, this, n);
        }
    }

    @Override
    public void cancel() {
        done = true;
        wheel.remove(this);
    }

    /** Called by the wheel on its loop. */
    void tick(long now) {
        Subscriber<? super DataBuffer> subscriber = actual;
        if (done
                || subscriber == null
                || demand == 0
                || now - lastNanos < periodNanos
                || !betweenEvents.getAsBoolean()) {
            return;
        }
        lastNanos = now;
        Operators.produced(DEMAND, this, 1);
        DataBuffer beat = ResponseRelay.BUFFERS.wrap(COMMENT.duplicate());
        lastBeat = beat;
        subscriber.onNext(beat);
    }

    /**
     * The stream's events with these beats in their silences. Errors are delayed until both end
     * (the beats end with the events): a plain merge passed the upstream's failure on at once and
     * dropped the error event still queued for a client that had asked for nothing at that moment
     * (one not reading). The filter is {@link #test}.
     */
    Flux<DataBuffer> mergedWith(Flux<DataBuffer> events) {
        return Flux.mergeDelayError(1, events, this).filter(this);
    }

    /**
     * Whether a buffer leaving the merge of events and beats goes to the client: an event's always
     * (noting whether it ended its event), a beat only if the client's last buffer ended one. The
     * check at the tick is not enough: it is about what was read from the upstream, and the merge
     * keeps a beat for a client that is not reading, to hand it out later, possibly after a piece
     * of an oversized event that the upstream's next chunk has not finished yet.
     */
    @Override
    public boolean test(DataBuffer buffer) {
        if (buffer == lastBeat) {
            lastBeat = null;
            return clientBetweenEvents;
        }
        clientBetweenEvents = endsAnEvent(buffer);
        return true;
    }

    /**
     * Ends with a blank line, in any of SSE's line endings (LF, CR LF, CR): the last line break
     * follows another one. As the splitter ends an event, also at a CR whose LF is still to come.
     */
    static boolean endsAnEvent(DataBuffer buffer) {
        int start = buffer.readPosition();
        int end = buffer.writePosition();
        if (end - start < 2) {
            return false;
        }
        byte last = buffer.getByte(end - 1);
        int before;
        if (last == '\n') {
            before = end - 2 >= start && buffer.getByte(end - 2) == '\r' ? end - 3 : end - 2;
        } else if (last == '\r') {
            before = end - 2;
        } else {
            return false;
        }
        if (before < start) {
            return false;
        }
        byte previous = buffer.getByte(before);
        return previous == '\n' || previous == '\r';
    }

    /** On the wheel's loop. */
    private void complete() {
        ended = true;
        Subscriber<? super DataBuffer> subscriber = actual;
        if (done || subscriber == null) {
            return;
        }
        done = true;
        wheel.remove(this);
        subscriber.onComplete();
    }
}
