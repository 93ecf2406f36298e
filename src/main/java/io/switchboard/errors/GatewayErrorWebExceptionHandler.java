package io.switchboard.errors;

import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTransientException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.webflux.error.ErrorWebExceptionHandler;
import org.springframework.core.annotation.Order;
import org.springframework.core.codec.DecodingException;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.stereotype.Component;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.ServerWebInputException;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;

/**
 * Turns every exception that reaches the web layer into an OpenAI-shaped error, so no whitelabel
 * page, stack trace or class name is ever rendered. It is the application's
 * {@link ErrorWebExceptionHandler}, so Spring Boot does not add its default one: that one never had
 * anything left to handle, yet put one more error operator on every request, kept for the whole of
 * a stream.
 */
@Component
@Order(-2)
public class GatewayErrorWebExceptionHandler implements ErrorWebExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(GatewayErrorWebExceptionHandler.class);

    @Override
    public Mono<Void> handle(ServerWebExchange exchange, Throwable ex) {
        if (exchange.getResponse().isCommitted()) {
            return ex instanceof GatewayException && abort(exchange) ? Mono.empty() : Mono.error(ex);
        }
        return ErrorResponses.write(exchange, translate(exchange, ex));
    }

    /**
     * An answer the gateway itself cut after it had begun (the upstream failed or went silent
     * mid-answer: the relay logged it and, for a stream, sent an error event): the client must see
     * an incomplete response, so the connection is closed here, before anything could end the
     * answer cleanly. Left to the framework, the same close came with two ERROR lines for an
     * upstream's fault (Spring's "already committed" and Reactor Netty's "Error finishing
     * response"). Any other error after the commit still goes that way: it may be a bug.
     */
    private static boolean abort(ServerWebExchange exchange) {
        if (ServerHttpResponseDecorator.getNativeResponse(exchange.getResponse()) instanceof Connection connection) {
            connection.channel().close();
            return true;
        }
        return false;
    }

    static GatewayException translate(ServerWebExchange exchange, Throwable ex) {
        if (ex instanceof GatewayException gateway) {
            return gateway;
        }
        if (ex instanceof DataBufferLimitException) {
            return GatewayException.of(ErrorCode.BODY_TOO_LARGE, "Request body is too large.");
        }
        if (ex instanceof AuthenticationException) {
            return GatewayException.of(ErrorCode.INVALID_API_KEY, InvalidKeyMessage.TEXT);
        }
        if (ex instanceof AccessDeniedException) {
            return GatewayException.of(ErrorCode.FORBIDDEN, "This key may not use this endpoint.");
        }
        if (ex instanceof DecodingException || ex instanceof ServerWebInputException) {
            return GatewayException.of(ErrorCode.INVALID_REQUEST, "The request could not be read.");
        }
        if (ex instanceof ResponseStatusException status) {
            return fromStatus(exchange, status.getStatusCode());
        }
        if (databaseUnavailable(ex)) {
            // The database is down or slow (the admin API and usage reports need it; the data plane
            // does not): a retryable 503, not a 500 that says the gateway is broken.
            log.warn(
                    "Database unavailable on {} {}: {}",
                    exchange.getRequest().getMethod(),
                    exchange.getRequest().getPath(),
                    ex.toString());
            return GatewayException.of(
                    ErrorCode.SERVICE_UNAVAILABLE, "The gateway's database is not available; retry shortly.");
        }
        log.error(
                "Unhandled error on {} {}",
                exchange.getRequest().getMethod(),
                exchange.getRequest().getPath(),
                ex);
        return GatewayException.of(ErrorCode.INTERNAL, "The gateway failed to handle the request.");
    }

    private static boolean databaseUnavailable(Throwable ex) {
        return ex instanceof DataAccessResourceFailureException
                || ex instanceof TransientDataAccessException
                || ex instanceof CannotCreateTransactionException
                || ex instanceof R2dbcNonTransientResourceException
                || ex instanceof R2dbcTransientException;
    }

    private static GatewayException fromStatus(ServerWebExchange exchange, HttpStatusCode status) {
        return switch (status.value()) {
            case 404 -> GatewayException.of(ErrorCode.NOT_FOUND, "Unknown path: " + safePath(exchange));
            case 405 -> GatewayException.of(ErrorCode.METHOD_NOT_ALLOWED, "Method not allowed on this path.");
            case 413 -> GatewayException.of(ErrorCode.BODY_TOO_LARGE, "Request body is too large.");
            case 415 -> GatewayException.of(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json.");
            case 401 -> GatewayException.of(ErrorCode.INVALID_API_KEY, InvalidKeyMessage.TEXT);
            case 403 -> GatewayException.of(ErrorCode.FORBIDDEN, "Forbidden.");
            case 503 -> GatewayException.of(ErrorCode.SERVICE_UNAVAILABLE, "The gateway is not available.");
            default ->
                status.is4xxClientError()
                        ? GatewayException.of(ErrorCode.INVALID_REQUEST, "The request was refused.")
                        : GatewayException.of(ErrorCode.INTERNAL, "The gateway failed to handle the request.");
        };
    }

    /** The path, trimmed and stripped of anything but plain characters, so it cannot inject into the body. */
    private static String safePath(ServerWebExchange exchange) {
        String path = exchange.getRequest().getPath().value();
        StringBuilder clean = new StringBuilder(Math.min(path.length(), 100));
        for (int i = 0; i < path.length() && clean.length() < 100; i++) {
            char c = path.charAt(i);
            clean.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return clean.toString();
    }
}
