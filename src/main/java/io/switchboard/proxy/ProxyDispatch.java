package io.switchboard.proxy;

import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.ProxyEndpoint;
import java.util.List;
import org.springframework.http.codec.HttpMessageWriter;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.reactive.result.view.ViewResolver;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * The end of the filter chain for the data plane's relayed calls: a request whose method and path
 * are exactly those of a relayed endpoint ({@code POST /v1/chat/completions}, ...) goes straight to
 * the {@link ProxyHandler}; every other request goes on to Spring's dispatcher and its routes,
 * {@link ProxyRoutes} included (same handler, and 405 for a known path with another method).
 *
 * <p>Why: the dispatcher finds a handler by asking each handler mapping in turn, and the functional
 * mapping tries every route of the application one after the other (the model list, the admin API,
 * the usage reports, the console, then the proxy's), each a Reactor operator; it then adapts the
 * answer through a handler result, a checkpoint and an error fallback that an open stream keeps for
 * its whole life. Here the endpoint is already known. The routes stay, so nothing a client
 * sees depends on which way a request went.
 */
@Component
public final class ProxyDispatch {

    private final ProxyHandler handler;
    private final ServerResponse.Context context;

    public ProxyDispatch(ProxyHandler handler, ServerCodecConfigurer codecs) {
        this.handler = handler;
        this.context = new WritersOnly(codecs.getWriters());
    }

    /**
     * As a {@code WebFilter}: the last one of the chain. The endpoint is the one the request-id
     * filter found for the path when the exchange began.
     */
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        GatewayExchange state = GatewayExchange.find(exchange);
        ProxyEndpoint endpoint = state == null ? null : state.endpoint();
        // GET /v1/models is answered by the gateway itself (the key's own model list): a route.
        if (endpoint == null
                || !endpoint.hasBody()
                || !endpoint.method().equals(exchange.getRequest().getMethod())) {
            return chain.filter(exchange);
        }
        return handler.handle(exchange, endpoint).flatMap(response -> response.writeTo(exchange, context));
    }

    /** What the relay's responses need to be written: they carry their own body inserters. */
    private record WritersOnly(List<HttpMessageWriter<?>> messageWriters) implements ServerResponse.Context {

        @Override
        public List<ViewResolver> viewResolvers() {
            return List.of();
        }
    }
}
