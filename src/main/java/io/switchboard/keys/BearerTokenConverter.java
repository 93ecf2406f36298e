package io.switchboard.keys;

import java.util.List;
import org.springframework.http.HttpHeaders;
import org.springframework.security.core.Authentication;
import org.springframework.security.web.server.authentication.ServerAuthenticationConverter;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Reads the credential from {@code Authorization: Bearer ...} and from nowhere else: a key in the query
 * string or a cookie ends up in proxy logs and browser history, so it is not accepted. No header: empty,
 * and the request is refused later as unauthenticated. A header that is not one well-formed bearer
 * token becomes a credential that cannot match, so it is refused like an unknown key.
 */
public final class BearerTokenConverter implements ServerAuthenticationConverter {

    private static final String BEARER = "Bearer ";

    @Override
    public Mono<Authentication> convert(ServerWebExchange exchange) {
        List<String> values = exchange.getRequest().getHeaders().get(HttpHeaders.AUTHORIZATION);
        if (values == null || values.isEmpty()) {
            return Mono.empty();
        }
        if (values.size() != 1) {
            return Mono.just(ApiKeyAuthentication.presented(""));
        }
        String value = values.get(0);
        if (value.length() <= BEARER.length() || !value.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return Mono.just(ApiKeyAuthentication.presented(""));
        }
        return Mono.just(
                ApiKeyAuthentication.presented(value.substring(BEARER.length()).strip()));
    }
}
