package io.switchboard.proxy;

import io.netty.channel.EventLoop;
import org.jspecify.annotations.Nullable;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import reactor.netty.Connection;

/** The Netty event loop a client request is served on: its timers and its upstream connection live there. */
final class ServingLoop {

    private ServingLoop() {}

    /** Null when the request is not served by Reactor Netty (a test's mock exchange). */
    static @Nullable EventLoop of(ServerHttpRequest request) {
        return nativeRequest(request) instanceof Connection connection
                ? connection.channel().eventLoop()
                : null;
    }

    /** Reactor Netty's request under Spring's; null for a test's mock request, which has none. */
    static @Nullable Object nativeRequest(ServerHttpRequest request) {
        try {
            return ServerHttpRequestDecorator.getNativeRequest(request);
        } catch (IllegalStateException noServer) {
            return null;
        }
    }
}
