package io.switchboard.proxy;

import static org.springframework.web.reactive.function.server.RequestPredicates.method;
import static org.springframework.web.reactive.function.server.RequestPredicates.path;

import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import io.switchboard.exchange.ProxyEndpoint;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * The data plane's routes, each operation at {@code /v1/...} and {@code /api/v1/...}. A known path
 * with another method is 405; any other path falls through to 404 (both OpenAI-shaped).
 */
@Configuration(proxyBeanMethods = false)
public class ProxyRoutes {

    @Bean
    @Order(Ordered.LOWEST_PRECEDENCE - 10)
    RouterFunction<ServerResponse> proxyRouterFunction(ProxyHandler handler) {
        RouterFunctions.Builder routes = RouterFunctions.route();
        for (ProxyEndpoint endpoint : ProxyEndpoint.values()) {
            for (String prefix : new String[] {ProxyEndpoint.V1, ProxyEndpoint.API_V1}) {
                String path = prefix + endpoint.upstreamPath();
                routes.route(
                        method(endpoint.method()).and(path(path)),
                        request -> handler.handle(request.exchange(), endpoint));
                routes.route(
                        path(path),
                        request -> Mono.error(GatewayException.of(
                                ErrorCode.METHOD_NOT_ALLOWED,
                                "Use " + endpoint.method().name() + " on " + path + ".")));
            }
        }
        return routes.build();
    }
}
