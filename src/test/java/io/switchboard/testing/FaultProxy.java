package io.switchboard.testing;

import io.netty.channel.ChannelOption;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.NettyInbound;
import reactor.netty.NettyOutbound;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;

/**
 * A TCP proxy on a loopback port between the gateway and a dependency (PostgreSQL, Redis) that a test
 * can break while the dependency itself keeps running for everyone else:
 *
 * <ul>
 *   <li>{@link #pass()}: bytes go both ways untouched;
 *   <li>{@link #refuse()}: the listener is closed (a new connection is refused) and every open
 *       connection is reset, as when the server process dies;
 *   <li>{@link #blackHole()}: connections are accepted and bytes read, but nothing is forwarded and
 *       nothing answered, as behind a firewall that drops packets; leaving this mode resets the
 *       connections that lost bytes (TCP would give up on them the same way);
 *   <li>{@link #delay(Duration)}: each client-to-server chunk is held that long before it is
 *       forwarded, in order, so every query or command answers late.
 * </ul>
 *
 * <p>Written by hand on Reactor Netty (about a hundred lines) because no library does this without
 * Docker or a native binary: Toxiproxy's Java client needs the Toxiproxy server (a Go binary, or its
 * Testcontainers image), and NetCrusher, the pure-Java TCP fault proxy on Maven Central, has had no
 * release since 2018. Bytes are copied to arrays on the way through so a chunk dropped or held by a
 * fault can never leak a Netty buffer.
 */
public final class FaultProxy implements AutoCloseable {

    private enum Mode {
        PASS,
        REFUSE,
        BLACK_HOLE,
        DELAY
    }

    private final String targetHost;
    private final int targetPort;
    private final int port;
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile Mode mode = Mode.PASS;
    private volatile Duration delay = Duration.ZERO;
    private volatile @Nullable DisposableServer server;

    private FaultProxy(String targetHost, int targetPort) {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        DisposableServer bound = bind(0);
        this.server = bound;
        this.port = bound.port();
    }

    /** A proxy in {@code pass} mode to {@code host:port}, listening on a free loopback port. */
    public static FaultProxy to(String host, int port) {
        return new FaultProxy(host, port);
    }

    private DisposableServer bind(int onPort) {
        return TcpServer.create()
                .host("127.0.0.1")
                .port(onPort)
                // A close is a reset (RST), as when a server dies, not an orderly FIN.
                .childOption(ChannelOption.SO_LINGER, 0)
                .handle(this::handle)
                .bindNow(Duration.ofSeconds(5));
    }

    public int port() {
        return port;
    }

    /** Connections accepted so far, in any mode. */
    public int accepted() {
        return accepted.get();
    }

    public synchronized void pass() {
        Mode before = mode;
        mode = Mode.PASS;
        if (before == Mode.BLACK_HOLE) {
            resetAll();
        }
        if (server == null) {
            server = bind(port);
        }
    }

    public synchronized void refuse() {
        mode = Mode.REFUSE;
        DisposableServer current = server;
        server = null;
        if (current != null) {
            current.disposeNow(Duration.ofSeconds(5));
        }
        resetAll();
    }

    public synchronized void blackHole() {
        mode = Mode.BLACK_HOLE;
        if (server == null) {
            server = bind(port);
        }
    }

    public synchronized void delay(Duration each) {
        delay = each;
        mode = Mode.DELAY;
        if (server == null) {
            server = bind(port);
        }
    }

    private void resetAll() {
        open.forEach(Connection::dispose);
        open.clear();
    }

    private Mono<Void> handle(NettyInbound in, NettyOutbound out) {
        accepted.incrementAndGet();
        Connection[] client = new Connection[1];
        in.withConnection(connection -> client[0] = connection);
        track(client[0]);
        if (mode == Mode.BLACK_HOLE) {
            // Read (Reactor Netty releases each buffer after delivery) and never answer.
            return in.receive().then();
        }
        return TcpClient.create()
                .host(targetHost)
                .port(targetPort)
                .connect()
                .flatMap(backend -> {
                    track(backend);
                    client[0].onDispose(backend::dispose);
                    backend.onDispose(client[0]::dispose);
                    Mono<Void> up = backend.outbound()
                            .sendByteArray(in.receive().asByteArray().concatMap(this::shape))
                            .then();
                    Mono<Void> down = out.sendByteArray(
                                    backend.inbound().receive().asByteArray().filter(chunk -> mode != Mode.BLACK_HOLE))
                            .then();
                    return Mono.when(up, down).doFinally(signal -> backend.dispose());
                })
                .onErrorResume(error -> Mono.fromRunnable(client[0]::dispose));
    }

    /** What happens to one client-to-server chunk in the current mode. */
    private Mono<byte[]> shape(byte[] chunk) {
        return switch (mode) {
            case BLACK_HOLE, REFUSE -> Mono.empty();
            case DELAY -> Mono.just(chunk).delayElement(delay);
            case PASS -> Mono.just(chunk);
        };
    }

    private void track(Connection connection) {
        open.add(connection);
        connection.onDispose(() -> open.remove(connection));
    }

    @Override
    public synchronized void close() {
        DisposableServer current = server;
        server = null;
        if (current != null) {
            current.disposeNow(Duration.ofSeconds(5));
        }
        resetAll();
    }
}
