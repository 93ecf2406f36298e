package io.switchboard.proxy;

import java.util.function.LongConsumer;
import org.jspecify.annotations.Nullable;
import org.springframework.http.ReactiveHttpOutputMessage;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import reactor.netty.http.HttpOperations;
import reactor.netty.http.server.HttpServerResponse;

/**
 * Lets go of a streamed response's header map once the headers are on the wire. Reactor Netty keeps
 * it (a dozen entries, the rate-limit values among them) for as long as the response lasts: minutes
 * for a stream.
 *
 * <p>When that is, from the body's demand ({@code doOnRequest}): Spring's writer asks for one buffer
 * and holds it before it commits the response (its {@code ChannelSendOperator}); every later request
 * comes from Reactor Netty's sender, which subscribes only once the headers' write has completed. So
 * the second request comes after the headers were encoded; the map is cleared then, and only if
 * Reactor Netty says the headers were sent.
 */
final class SentHeaders implements LongConsumer {

    /** Null once the map was cleared (or could not be): nothing more to do on later requests. */
    private @Nullable HttpServerResponse response;

    private boolean firstRequestSeen;

    private SentHeaders(@Nullable HttpServerResponse response) {
        this.response = response;
    }

    /** For the response a body is written to; does nothing when it is not Reactor Netty's (a test's mock). */
    static SentHeaders of(ReactiveHttpOutputMessage message) {
        Object nativeResponse = message instanceof ServerHttpResponse response
                ? ServerHttpResponseDecorator.getNativeResponse(response)
                : null;
        return new SentHeaders(
                nativeResponse instanceof HttpServerResponse server && server instanceof HttpOperations<?, ?>
                        ? server
                        : null);
    }

    /** Called with each request for the body's buffers; requests are serial (Reactive Streams 2.7). */
    @Override
    public void accept(long n) {
        HttpServerResponse server = response;
        if (server == null) {
            return;
        }
        if (!firstRequestSeen) {
            firstRequestSeen = true;
            return;
        }
        if (((HttpOperations<?, ?>) server).hasSentHeaders()) {
            server.responseHeaders().clear();
        }
        response = null;
    }
}
