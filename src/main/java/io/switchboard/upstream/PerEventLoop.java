package io.switchboard.upstream;

import io.netty.channel.EventLoop;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A value per Netty event loop, made on the loop's first use and kept as long as the loops live (the
 * upstream clients' pools here, the proxy's timers). Read on every request, so the read takes no lock.
 */
public final class PerEventLoop<T> {

    private final Map<EventLoop, T> values = new ConcurrentHashMap<>();
    private final Function<EventLoop, T> make;

    public PerEventLoop(Function<EventLoop, T> make) {
        this.make = make;
    }

    public T on(EventLoop loop) {
        // A plain read first: computeIfAbsent locks the key's bin when the key is not its first
        // entry, and two loops whose keys share a bin would take turns on that lock every request.
        T value = values.get(loop);
        return value != null ? value : values.computeIfAbsent(loop, make);
    }
}
