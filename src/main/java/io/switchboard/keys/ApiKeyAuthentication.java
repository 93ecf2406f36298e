package io.switchboard.keys;

import io.switchboard.exchange.CallerKey;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;

/**
 * A bearer credential on its way through Spring Security: first unauthenticated, holding the
 * presented secret; then authenticated, holding the caller and no secret. {@code toString} never
 * shows the secret.
 */
public final class ApiKeyAuthentication extends AbstractAuthenticationToken {

    /** Authority of a data-plane key. */
    public static final String CLIENT = "ROLE_CLIENT";
    /** Authority of the admin credential. */
    public static final String ADMIN = "ROLE_ADMIN";

    private final Object principal;
    private @Nullable String secret;

    private ApiKeyAuthentication(Object principal, @Nullable String secret, List<GrantedAuthority> authorities) {
        super(authorities);
        this.principal = principal;
        this.secret = secret;
        setAuthenticated(secret == null);
    }

    /** A presented secret, not checked yet. */
    public static ApiKeyAuthentication presented(String secret) {
        return new ApiKeyAuthentication("unverified", secret, List.of());
    }

    /** A verified data-plane key. */
    public static ApiKeyAuthentication client(CallerKey caller) {
        return new ApiKeyAuthentication(caller, null, List.of(new SimpleGrantedAuthority(CLIENT)));
    }

    /** The verified admin credential, named by its id (never by the credential). */
    public static ApiKeyAuthentication admin(String actorId) {
        return new ApiKeyAuthentication(actorId, null, List.of(new SimpleGrantedAuthority(ADMIN)));
    }

    @Override
    public @Nullable Object getCredentials() {
        return secret;
    }

    @Override
    public Object getPrincipal() {
        return principal;
    }

    /** The presented secret of an unverified token; empty once verified. */
    public String secret() {
        return secret == null ? "" : secret;
    }

    public @Nullable CallerKey caller() {
        return principal instanceof CallerKey caller ? caller : null;
    }

    @Override
    public String getName() {
        return principal instanceof CallerKey caller ? caller.id() : principal.toString();
    }

    @Override
    public void eraseCredentials() {
        secret = null;
    }

    @Override
    public String toString() {
        return "ApiKeyAuthentication[" + (secret == null ? getName() : "unverified") + "]";
    }
}
