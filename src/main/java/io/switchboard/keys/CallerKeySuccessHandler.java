package io.switchboard.keys;

import io.switchboard.exchange.CallerKey;
import io.switchboard.exchange.GatewayExchange;
import org.springframework.security.core.Authentication;
import org.springframework.security.web.server.WebFilterExchange;
import org.springframework.security.web.server.authentication.ServerAuthenticationSuccessHandler;
import reactor.core.publisher.Mono;

/**
 * After a key is verified: put the caller on the request state, where the proxy, limits and usage read
 * it without a second lookup, and continue the chain.
 */
public final class CallerKeySuccessHandler implements ServerAuthenticationSuccessHandler {

    @Override
    public Mono<Void> onAuthenticationSuccess(WebFilterExchange webFilterExchange, Authentication authentication) {
        if (authentication instanceof ApiKeyAuthentication verified) {
            CallerKey caller = verified.caller();
            // The request-id filter attaches the state to every request; guard for tests without it.
            GatewayExchange state = GatewayExchange.find(webFilterExchange.getExchange());
            if (caller != null && state != null) {
                state.caller(caller);
            }
        }
        return webFilterExchange.getChain().filter(webFilterExchange.getExchange());
    }
}
