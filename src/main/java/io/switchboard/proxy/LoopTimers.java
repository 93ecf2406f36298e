package io.switchboard.proxy;

import io.netty.channel.EventLoop;
import io.switchboard.upstream.PerEventLoop;
import org.jspecify.annotations.Nullable;
import org.springframework.stereotype.Component;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.Connection;

/**
 * Timers for the data plane's per-request deadlines, on the connection's own Netty
 * event loop. Reactor's shared timer keeps its tasks in a queue behind a lock, and cancelling a timer
 * (every request that answers in time, every stream that ends) took that lock on the event loop,
 * where BlockHound caught a wait for it. An event loop adds and cancels its own timers without a lock.
 */
@Component
class LoopTimers {

    /** One scheduler per event loop, made once; the loops live as long as the server. */
    private final PerEventLoop<Scheduler> schedulers =
            new PerEventLoop<>(loop -> Schedulers.fromExecutorService(loop, "event-loop-timers"));

    /** Timers on the loop of this upstream (or any) connection. */
    Scheduler on(Connection connection) {
        return on(connection.channel().eventLoop());
    }

    /**
     * Timers on {@code loop} (the one serving a request: {@link ServingLoop}); Reactor's shared timer
     * when there is none (a request not served by Netty).
     */
    Scheduler on(@Nullable EventLoop loop) {
        return loop == null ? Schedulers.parallel() : schedulers.on(loop);
    }
}
