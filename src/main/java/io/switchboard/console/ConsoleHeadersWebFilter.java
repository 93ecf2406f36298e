package io.switchboard.console;

import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * A strict content security policy for the console: its own scripts only, no inline script, and
 * network calls only to this origin, so an injected string can neither run nor send the admin key
 * (kept in sessionStorage) anywhere else. The page may not be framed (no clickjacking of Revoke).
 */
@Component
class ConsoleHeadersWebFilter implements WebFilter {

    static final String POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String path = exchange.getRequest().getPath().pathWithinApplication().value();
        if (path.equals(ConsoleRoutes.PATH) || path.startsWith(ConsoleRoutes.PATH + "/")) {
            HttpHeaders headers = exchange.getResponse().getHeaders();
            headers.set("Content-Security-Policy", POLICY);
            headers.set("Referrer-Policy", "no-referrer");
            headers.set("X-Content-Type-Options", "nosniff");
        }
        return chain.filter(exchange);
    }

    /** A constant: Spring's filter chain labels every call of every filter with it, on every request. */
    @Override
    public String toString() {
        return "ConsoleHeadersWebFilter";
    }
}
