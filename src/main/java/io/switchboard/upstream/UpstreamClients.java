package io.switchboard.upstream;

import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;

/**
 * One upstream's HTTP clients: a connection pool for each event loop that serves client requests,
 * plus a shared one for the gateway's own background calls.
 *
 * <p>A pooled connection belongs to the event loop that opened it. With one pool for all loops, a
 * request served on loop A was usually given a connection of loop B: its upstream request was handed
 * to B and the answer handed back to A, two wake-ups of another thread per request (counted with
 * {@code bench/profile.sh --syscalls}, docs/benchmarks.md). With a pool per loop, opened on that
 * loop, a request stays on one thread from the client's bytes to the upstream's and back, as nginx's
 * workers and Envoy's keep their own upstream connections. Reactor Netty has no such affinity of its
 * own, so the pools are kept here.
 */
final class UpstreamClients {

    private final UnaryOperator<HttpClient> configure;
    private final Supplier<ConnectionProvider> newPool;
    private final HttpClient shared;
    private final PerEventLoop<HttpClient> perLoop = new PerEventLoop<>(this::pinnedTo);
    private final List<ConnectionProvider> pools = new CopyOnWriteArrayList<>();

    /**
     * @param newPool makes one connection pool with the provider's limits (each loop gets its own)
     * @param configure applies the provider's client settings to a client over a given pool
     * @param loops the loops the shared client connects on; null for Reactor Netty's global ones
     */
    UpstreamClients(
            Supplier<ConnectionProvider> newPool, UnaryOperator<HttpClient> configure, @Nullable LoopResources loops) {
        this.newPool = newPool;
        this.configure = configure;
        HttpClient client = configure.apply(HttpClient.create(pool()));
        this.shared = loops == null ? client : client.runOn(loops);
    }

    /** The client for calls that no client request is waiting on (price listing, generation look-ups). */
    HttpClient shared() {
        return shared;
    }

    /**
     * The client whose connections live on {@code loop}: the request's own loop opens them and reuses
     * them. Made on a loop's first request (allocations only, no I/O), kept for the loops' lifetime.
     */
    HttpClient on(@Nullable EventLoop loop) {
        return loop == null ? shared : perLoop.on(loop);
    }

    private HttpClient pinnedTo(EventLoop loop) {
        return configure.apply(HttpClient.create(pool())).runOn(loop);
    }

    private ConnectionProvider pool() {
        ConnectionProvider pool = newPool.get();
        pools.add(pool);
        return pool;
    }

    void close() {
        pools.forEach(ConnectionProvider::dispose);
    }
}
