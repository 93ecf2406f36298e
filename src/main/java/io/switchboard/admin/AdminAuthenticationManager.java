package io.switchboard.admin;

import io.switchboard.keys.ApiKeyAuthentication;
import io.switchboard.keys.ApiKeyAuthenticationManager;
import org.jspecify.annotations.Nullable;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.ReactiveAuthenticationManager;
import org.springframework.security.core.Authentication;
import reactor.core.publisher.Mono;

/**
 * Authenticates callers of {@code /admin/**} and the protected actuator endpoints: the admin secret
 * is an admin; a live data-plane key is a known client, which authorization then refuses with 403
 * (not 401: its owner should learn that the key is fine but the door is the wrong one); anything
 * else is 401.
 */
public final class AdminAuthenticationManager implements ReactiveAuthenticationManager {

    private final @Nullable AdminCredential admin;
    private final ApiKeyAuthenticationManager keys;

    public AdminAuthenticationManager(@Nullable AdminCredential admin, ApiKeyAuthenticationManager keys) {
        this.admin = admin;
        this.keys = keys;
    }

    @Override
    public Mono<Authentication> authenticate(Authentication authentication) {
        String secret = authentication instanceof ApiKeyAuthentication presented ? presented.secret() : "";
        if (admin != null && !secret.isEmpty() && admin.matches(secret)) {
            return Mono.just(ApiKeyAuthentication.admin(admin.id()));
        }
        if (secret.isEmpty()) {
            return Mono.error(new BadCredentialsException("invalid credential"));
        }
        return keys.authenticate(authentication);
    }
}
