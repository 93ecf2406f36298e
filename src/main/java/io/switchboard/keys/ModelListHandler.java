package io.switchboard.keys;

import static org.springframework.web.reactive.function.server.RequestPredicates.GET;

import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import io.switchboard.errors.InvalidKeyMessage;
import io.switchboard.exchange.CallerKey;
import org.springframework.http.MediaType;
import org.springframework.security.core.context.ReactiveSecurityContextHolder;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/** {@code GET /v1/models} and {@code GET /api/v1/models}: the upstream's list, cut to what the calling key may use. */
public final class ModelListHandler {

    private final ModelCatalog catalog;

    public ModelListHandler(ModelCatalog catalog) {
        this.catalog = catalog;
    }

    public RouterFunction<ServerResponse> routes() {
        return RouterFunctions.route(GET("/v1/models").or(GET("/api/v1/models")), this::list);
    }

    private Mono<ServerResponse> list(ServerRequest request) {
        return ReactiveSecurityContextHolder.getContext()
                .mapNotNull(context ->
                        context.getAuthentication() instanceof ApiKeyAuthentication auth ? auth.caller() : null)
                .switchIfEmpty(Mono.error(() -> GatewayException.of(ErrorCode.INVALID_API_KEY, InvalidKeyMessage.TEXT)))
                .flatMap((CallerKey caller) -> catalog.listFor(caller))
                .flatMap(body -> ServerResponse.ok()
                        .contentType(MediaType.APPLICATION_JSON)
                        .bodyValue(body));
    }
}
