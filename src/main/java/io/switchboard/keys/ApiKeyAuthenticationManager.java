package io.switchboard.keys;

import org.springframework.security.authentication.AuthenticationServiceException;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.core.Authentication;
import reactor.core.publisher.Mono;

/** Spring Security's view of {@link KeyAuthenticator}: a live key, bad credentials (401) or a store failure (503). */
public final class ApiKeyAuthenticationManager implements ReactiveAuthenticationManager {

    private final KeyAuthenticator keys;

    public ApiKeyAuthenticationManager(KeyAuthenticator keys) {
        this.keys = keys;
    }

    @Override
    public Mono<Authentication> authenticate(Authentication authentication) {
        String secret = authentication instanceof ApiKeyAuthentication presented ? presented.secret() : "";
        return keys.authenticate(secret)
                .<Authentication>map(ApiKeyAuthentication::client)
                .switchIfEmpty(Mono.error(() -> new BadCredentialsException("invalid key")))
                .onErrorMap(
                        KeyStoreUnavailableException.class,
                        error -> new AuthenticationServiceException("key store unavailable", error))
                // Spring Security continues the exchange inside a flatMap over this Mono, which keeps
                // its finished source as long as the exchange lasts: let go of the lookup's operators.
                .onTerminateDetach();
    }
}
