package io.switchboard.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.security.web.server.MatcherSecurityWebFilterChain;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.WebFilterChainProxy;
import org.springframework.security.web.server.firewall.HttpStatusExchangeRejectedHandler;
import org.springframework.security.web.server.firewall.StrictServerWebExchangeFirewall;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatcher;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatchers;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

class SequentialSecurityChainsTest {

    private final List<String> ran = new CopyOnWriteArrayList<>();
    private final WebFilterChain handler = exchange -> {
        ran.add("handler");
        return Mono.empty();
    };

    private final List<SecurityWebFilterChain> chains = List.of(
            chain("admin", ServerWebExchangeMatchers.pathMatchers("/admin/**")),
            chain("api", ServerWebExchangeMatchers.pathMatchers("/v1/**", "/admin/**")),
            chain("rest", ServerWebExchangeMatchers.pathMatchers("/console/**")));
    private SequentialSecurityChains proxy = proxy(new WebFilterChainProxy.DefaultWebFilterChainDecorator());

    @Test
    void theFirstChainThatMatchesRunsItsFiltersThenTheHandler() {
        run("/admin/keys");
        assertThat(ran).containsExactly("admin", "handler");

        ran.clear();
        run("/v1/chat/completions");
        assertThat(ran).containsExactly("api", "handler");
    }

    @Test
    void noMatchGoesOnWithoutAnyChainsFilters() {
        run("/elsewhere");

        assertThat(ran).containsExactly("handler");
    }

    @Test
    void aRequestTheFirewallRejectsNeverReachesAChainOrTheHandler() {
        MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.get("/v1/..;/admin/keys"));

        proxy.filter(exchange, handler).block();

        assertThat(ran).isEmpty();
        assertThat(exchange.getResponse().getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
    }

    @Test
    void theDecoratorBuildsTheChainThatRuns() {
        proxy = proxy((original, filters) -> exchange -> {
            ran.add("decorated " + filters.size());
            return original.filter(exchange);
        });

        run("/v1/models");

        assertThat(ran).containsExactly("decorated 1", "handler");
    }

    private SequentialSecurityChains proxy(WebFilterChainProxy.WebFilterChainDecorator decorator) {
        return new SequentialSecurityChains(
                chains, new StrictServerWebExchangeFirewall(), new HttpStatusExchangeRejectedHandler(), decorator);
    }

    private void run(String path) {
        proxy.filter(MockServerWebExchange.from(MockServerHttpRequest.get(path)), handler)
                .block();
    }

    private SecurityWebFilterChain chain(String name, ServerWebExchangeMatcher matcher) {
        WebFilter marker = (exchange, next) -> {
            ran.add(name);
            return next.filter(exchange);
        };
        return new MatcherSecurityWebFilterChain(matcher, List.of(marker));
    }
}
