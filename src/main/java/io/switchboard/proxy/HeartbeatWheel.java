package io.switchboard.proxy;

import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

/**
 * One timer for the heartbeats of all the event streams whose upstream connection is on one event
 * loop. A timer per stream (Reactor's interval, with the operators that filter, map and stop it)
 * kept about 0.5 KiB of heap for every open stream; here a stream is one slot in a list, visited every
 * tenth of the heartbeat period, so a silence gets its comment after at most 1.1 periods.
 *
 * <p>The list is touched only on the loop's own thread: additions and removals from another thread
 * are handed to the loop, in order.
 */
final class HeartbeatWheel {

    private final EventLoop loop;
    private final long tickNanos;
    private final boolean off;
    private final ArrayList<Heartbeats> streams = new ArrayList<>();
    private boolean ticking;

    HeartbeatWheel(EventLoop loop, Duration period) {
        this.loop = loop;
        this.off = period.isNegative() || period.isZero();
        this.tickNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(1), period.toNanos() / 10);
    }

    /** On the loop. A wheel whose period is 0 (heartbeats turned off) holds no stream and never ticks. */
    void add(Heartbeats beats) {
        if (off) {
            return;
        }
        beats.slot = streams.size();
        streams.add(beats);
        if (!ticking) {
            ticking = true;
            loop.scheduleAtFixedRate(this::tick, tickNanos, tickNanos, TimeUnit.NANOSECONDS);
        }
    }

    void remove(Heartbeats beats) {
        onLoop(() -> {
            int slot = beats.slot;
            if (slot < 0) {
                return;
            }
            // Swap with the last: O(1), and the order of the streams does not matter.
            Heartbeats last = streams.remove(streams.size() - 1);
            if (last != beats) {
                streams.set(slot, last);
                last.slot = slot;
            }
            beats.slot = -1;
        });
    }

    /** How many streams the wheel holds; read on the loop (tests). */
    int size() {
        return streams.size();
    }

    private void tick() {
        long now = System.nanoTime();
        // Backwards: a stream that ends while it beats moves an already visited one into its slot.
        for (int i = streams.size() - 1; i >= 0; i--) {
            if (i < streams.size()) {
                streams.get(i).tick(now);
            }
        }
    }

    /** Runs {@code task} on the loop: now when called there, else after what the loop has queued. */
    void onLoop(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }
}
