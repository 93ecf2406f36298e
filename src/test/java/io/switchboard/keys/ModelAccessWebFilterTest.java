package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.exchange.Attribution;
import io.switchboard.exchange.CallerKey;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.ProxyEndpoint;
import io.switchboard.exchange.ProxyRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import reactor.core.publisher.Mono;

/** The 403 rule on the state the body filter leaves: the rewritten model and every fallback must be allowed. */
class ModelAccessWebFilterTest {

    private final ModelAccessWebFilter filter = new ModelAccessWebFilter();

    private record Outcome(boolean passed, MockServerWebExchange exchange) {}

    private Outcome run(List<String> allowed, String model, List<String> fallbacks) {
        MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.post("/v1/chat/completions"));
        GatewayExchange state = new GatewayExchange(
                "req-1", ProxyEndpoint.CHAT_COMPLETIONS, System.nanoTime(), System.currentTimeMillis());
        state.caller(new CallerKey("key_1", "team", allowed, null, null, null, null, Attribution.NONE));
        state.request(new ProxyRequest(
                ProxyEndpoint.CHAT_COMPLETIONS, model, model, fallbacks, false, null, 1, 10, false, false));
        GatewayExchange.attach(exchange, state);
        AtomicBoolean passed = new AtomicBoolean();
        filter.filter(exchange, e -> Mono.fromRunnable(() -> passed.set(true))).block(Duration.ofSeconds(5));
        return new Outcome(passed.get(), exchange);
    }

    @Test
    void aModelMatchingAPatternPasses() {
        assertThat(run(List.of("openai/*"), "openai/gpt-5-nano", List.of()).passed())
                .isTrue();
    }

    @Test
    void aKeyWithoutPatternsMayUseEveryModel() {
        assertThat(run(List.of(), "anthropic/claude-3.5-haiku", List.of()).passed())
                .isTrue();
    }

    @Test
    void aModelOutsideThePatternsIs403OpenAiShaped() {
        Outcome outcome = run(List.of("openai/*", "meta-llama/*:free"), "anthropic/claude-3.5-haiku", List.of());
        assertThat(outcome.passed()).isFalse();
        assertThat(outcome.exchange().getResponse().getStatusCode()).isEqualTo(HttpStatus.FORBIDDEN);
        String body = outcome.exchange().getResponse().getBodyAsString().block(Duration.ofSeconds(5));
        assertThat(body)
                .contains("\"type\":\"permission_error\"")
                .contains("\"code\":\"model_not_allowed\"")
                .contains("\"request_id\":\"req-1\"")
                .contains("anthropic/claude-3.5-haiku");
    }

    @Test
    void everyFallbackModelMustBeAllowedToo() {
        Outcome outcome = run(List.of("openai/*"), "openai/gpt-5-nano", List.of("openai/gpt-5", "x-ai/grok-4"));
        assertThat(outcome.passed()).isFalse();
        assertThat(outcome.exchange().getResponse().getStatusCode()).isEqualTo(HttpStatus.FORBIDDEN);
        assertThat(run(List.of("openai/*"), "openai/gpt-5-nano", List.of("openai/gpt-5"))
                        .passed())
                .isTrue();
    }

    @Test
    void requestsWithoutCallerOrParsedBodyAreLeftToOthers() {
        MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.get("/v1/models"));
        AtomicBoolean passed = new AtomicBoolean();
        filter.filter(exchange, e -> Mono.fromRunnable(() -> passed.set(true))).block(Duration.ofSeconds(5));
        assertThat(passed).isTrue();
    }
}
