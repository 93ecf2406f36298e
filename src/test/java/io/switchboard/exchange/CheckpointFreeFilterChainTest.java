package io.switchboard.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

class CheckpointFreeFilterChainTest {

    private final List<String> calls = new ArrayList<>();
    private final ServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.get("/v1/models"));
    private final WebFilterChain handler = ex -> Mono.fromRunnable(() -> calls.add("handler"));

    @Test
    void runsTheFiltersInTheirOrderThenTheHandler() {
        new CheckpointFreeFilterChain(List.of(named("a"), named("b"), named("c")))
                .filter(exchange, handler)
                .block();

        assertThat(calls).containsExactly("a", "b", "c", "handler");
    }

    @Test
    void aFilterRunsOnlyWhenTheChainIsSubscribedAsWithSpringsChain() {
        Mono<Void> chain = new CheckpointFreeFilterChain(List.of(named("a"))).filter(exchange, handler);

        assertThat(calls).isEmpty();
        chain.block();
        assertThat(calls).containsExactly("a", "handler");
    }

    @Test
    void aFilterThatAnswersItselfStopsTheChain() {
        WebFilter refuse = (ex, next) -> Mono.fromRunnable(() -> calls.add("refused"));

        new CheckpointFreeFilterChain(List.of(named("a"), refuse, named("c")))
                .filter(exchange, handler)
                .block();

        assertThat(calls).containsExactly("a", "refused");
    }

    @Test
    void anExceptionThrownByAFilterBecomesTheChainsError() {
        WebFilter broken = (ex, next) -> {
            throw new IllegalStateException("broken filter");
        };

        new CheckpointFreeFilterChain(List.of(broken))
                .filter(exchange, handler)
                .onErrorResume(e -> Mono.fromRunnable(() -> calls.add(e.getMessage())))
                .block();

        assertThat(calls).containsExactly("broken filter");
    }

    @Test
    void aChainOverSecuritysFiltersRunsThemThenTheRestOfTheOuterChain() {
        WebFilterChain chain =
                CheckpointFreeFilterChain.over(List.of(named("security-a"), named("security-b")), handler);

        assertThat(calls).isEmpty();
        chain.filter(exchange).block();
        assertThat(calls).containsExactly("security-a", "security-b", "handler");
    }

    private WebFilter named(String name) {
        return (ex, next) -> {
            calls.add(name);
            return next.filter(ex);
        };
    }
}
