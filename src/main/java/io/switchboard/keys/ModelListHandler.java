package io.switchboard.keys;

import static org.springframework.web.reactive.function.server.RequestPredicates.GET;
import static org.springframework.web.reactive.function.server.RequestPredicates.path;

import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import io.switchboard.errors.InvalidKeyMessage;
import io.switchboard.exchange.CallerKey;
import io.switchboard.exchange.ProxyEndpoint;
import org.springframework.http.MediaType;
import org.springframework.security.core.context.ReactiveSecurityContextHolder;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * {@code GET /v1/models} and {@code GET /api/v1/models}: the upstream's list, cut to what the calling
 * key may use; {@code GET /v1/models/{id}}: one entry of that list.
 */
public final class ModelListHandler {

    private final ModelCatalog catalog;

    public ModelListHandler(ModelCatalog catalog) {
        this.catalog = catalog;
    }

    private static final String ONE_MODEL = ProxyEndpoint.V1 + ProxyEndpoint.ONE_MODEL;
    private static final String ONE_MODEL_OPENROUTER = ProxyEndpoint.API_V1 + ProxyEndpoint.ONE_MODEL;

    /**
     * Whether {@code path} names one model, {@code /v1/models/{id}}: the one path whose last part may
     * hold slashes (OpenRouter's ids), which OpenAI's SDKs send encoded as {@code %2F}.
     */
    public static boolean namesOneModel(String path) {
        return path.startsWith(ONE_MODEL) || path.startsWith(ONE_MODEL_OPENROUTER);
    }

    public RouterFunction<ServerResponse> routes() {
        return RouterFunctions.route(GET("/v1/models").or(GET("/api/v1/models")), this::list)
                // OpenAI's "retrieve model": the rest of the path is the id, slashes included
                // (openai/gpt-5-nano), as OpenRouter's ids have them.
                .andRoute(GET(ONE_MODEL + "{*id}").or(GET(ONE_MODEL_OPENROUTER + "{*id}")), this::retrieve)
                // As every other known path: another method is 405 (OpenAI's SDKs have models.delete,
                // which OpenRouter does not serve), not the 404 of a path that does not exist.
                .andRoute(
                        path(ONE_MODEL + "{*id}").or(path(ONE_MODEL_OPENROUTER + "{*id}")),
                        request -> Mono.error(
                                GatewayException.of(ErrorCode.METHOD_NOT_ALLOWED, "Use GET on /v1/models/{id}.")));
    }

    private Mono<ServerResponse> list(ServerRequest request) {
        return caller().flatMap(catalog::listFor).flatMap(ModelListHandler::json);
    }

    private Mono<ServerResponse> retrieve(ServerRequest request) {
        String id = request.pathVariable("id").substring(1);
        return caller().flatMap(caller -> catalog.modelFor(caller, id)).flatMap(ModelListHandler::json);
    }

    private static Mono<CallerKey> caller() {
        return ReactiveSecurityContextHolder.getContext()
                .mapNotNull(context ->
                        context.getAuthentication() instanceof ApiKeyAuthentication auth ? auth.caller() : null)
                .switchIfEmpty(
                        Mono.error(() -> GatewayException.of(ErrorCode.INVALID_API_KEY, InvalidKeyMessage.TEXT)));
    }

    private static Mono<ServerResponse> json(byte[] body) {
        return ServerResponse.ok().contentType(MediaType.APPLICATION_JSON).bodyValue(body);
    }
}
