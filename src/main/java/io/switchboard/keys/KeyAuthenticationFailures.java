package io.switchboard.keys;

import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.ErrorResponses;
import io.switchboard.errors.GatewayException;
import io.switchboard.errors.InvalidKeyMessage;
import org.springframework.http.HttpHeaders;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.authentication.AuthenticationServiceException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.server.ServerAuthenticationEntryPoint;
import org.springframework.security.web.server.authorization.ServerAccessDeniedHandler;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Renders every refusal of Spring Security in OpenAI's shape: 401 with one fixed message for a
 * missing, unknown, revoked or expired key; 503 when the key could not be checked; 403 for a
 * credential that may not use the path.
 */
public final class KeyAuthenticationFailures implements ServerAuthenticationEntryPoint, ServerAccessDeniedHandler {

    private final String forbiddenMessage;

    public KeyAuthenticationFailures(String forbiddenMessage) {
        this.forbiddenMessage = forbiddenMessage;
    }

    @Override
    public Mono<Void> commence(ServerWebExchange exchange, AuthenticationException failure) {
        if (failure instanceof AuthenticationServiceException) {
            return ErrorResponses.write(
                    exchange,
                    GatewayException.of(
                            ErrorCode.SERVICE_UNAVAILABLE,
                            "The gateway cannot check API keys right now; retry shortly."));
        }
        HttpHeaders headers = new HttpHeaders();
        headers.set(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        return ErrorResponses.write(
                exchange, GatewayException.withHeaders(ErrorCode.INVALID_API_KEY, InvalidKeyMessage.TEXT, headers));
    }

    @Override
    public Mono<Void> handle(ServerWebExchange exchange, AccessDeniedException denied) {
        return ErrorResponses.write(exchange, GatewayException.of(ErrorCode.FORBIDDEN, forbiddenMessage));
    }
}
