package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.switchboard.errors.GatewayException;
import io.switchboard.exchange.GatewayExchange;
import io.switchboard.exchange.ProxyEndpoint;
import io.switchboard.exchange.ProxyRequest;
import io.switchboard.upstream.ProviderProperties;
import io.switchboard.upstream.ProviderRegistry;
import io.switchboard.upstream.StreamUsage;
import io.switchboard.upstream.TestProviders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.util.unit.DataSize;
import reactor.core.publisher.Mono;

/** The body filter on its own: default model, aliases in the fallback array, the parsed request. */
class RequestBodyWebFilterTest {

    private final ProviderRegistry providers = registry();

    @AfterEach
    void close() {
        providers.close();
    }

    private static ProviderRegistry registry() {
        Map<String, ProviderProperties> configured = new LinkedHashMap<>();
        configured.put("openrouter", TestProviders.properties("http://127.0.0.1:1/api/v1", "k", StreamUsage.ALWAYS));
        return new ProviderRegistry(configured);
    }

    private String run(String body, String defaultModel, AtomicReference<ProxyRequest> parsed) {
        RequestBodyWebFilter filter = new RequestBodyWebFilter(
                new BodyLimitProperties(DataSize.ofKilobytes(64), 16),
                new ModelRewrite(new ModelProperties(Map.of("fast", "openai/gpt-5-nano"), defaultModel)),
                providers);
        MockServerWebExchange exchange = MockServerWebExchange.from(
                MockServerHttpRequest.post("/v1/chat/completions").body(body));
        GatewayExchange state = new GatewayExchange(
                "req-1", ProxyEndpoint.CHAT_COMPLETIONS, System.nanoTime(), System.currentTimeMillis());
        GatewayExchange.attach(exchange, state);
        AtomicReference<String> upstreamBody = new AtomicReference<>();
        filter.filter(exchange, ex -> {
                    ByteBuf prepared = UpstreamBody.find(ex).retainedDuplicate();
                    upstreamBody.set(prepared.toString(StandardCharsets.UTF_8));
                    prepared.release();
                    parsed.set(state.request());
                    return Mono.empty();
                })
                .block(Duration.ofSeconds(5));
        return upstreamBody.get();
    }

    @Test
    void missingModelGetsTheDefaultAsTheFirstMember() {
        AtomicReference<ProxyRequest> parsed = new AtomicReference<>();
        assertThat(run("{\"messages\":[]}", "fast", parsed))
                .isEqualTo("{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}");
        assertThat(run("{ }", "fast", parsed)).isEqualTo("{\"model\":\"openai/gpt-5-nano\" }");
        // A null model names none: the default takes its place, never a second "model" member.
        assertThat(run("{\"messages\":[],\"model\":null}", "fast", parsed))
                .isEqualTo("{\"messages\":[],\"model\":\"openai/gpt-5-nano\"}");
        assertThat(parsed.get().requestedModel()).isEqualTo("fast");
        assertThat(parsed.get().model()).isEqualTo("openai/gpt-5-nano");
    }

    @Test
    void fallbackModelsAreRewrittenAndReported() {
        AtomicReference<ProxyRequest> parsed = new AtomicReference<>();
        String out = run(
                "{\"model\":\"x/y\",\"models\":[\"fast\",\"a/b\"],\"stream\":true,\"max_tokens\":300}", null, parsed);
        assertThat(out)
                .isEqualTo(
                        "{\"model\":\"x/y\",\"models\":[\"openai/gpt-5-nano\",\"a/b\"],\"stream\":true,\"max_tokens\":300}");
        assertThat(parsed.get().allModels()).containsExactly("x/y", "openai/gpt-5-nano", "a/b");
        assertThat(parsed.get().stream()).isTrue();
        assertThat(parsed.get().maxTokens()).isEqualTo(300);
        assertThat(parsed.get().usageInjected()).isFalse();
    }

    /** Reservations (tokens per minute, budget) must cover the largest answer the request allows. */
    @Test
    void theCompletionCeilingTakesTheLargerLimitTimesTheChoices() {
        AtomicReference<ProxyRequest> parsed = new AtomicReference<>();
        run("{\"model\":\"x/y\",\"max_completion_tokens\":500,\"max_tokens\":200,\"n\":3}", null, parsed);
        assertThat(parsed.get().maxTokens()).isEqualTo(500);
        assertThat(parsed.get().choices()).isEqualTo(3);
        assertThat(parsed.get().completionCeiling(4096)).isEqualTo(1500);

        run("{\"model\":\"x/y\",\"n\":2}", null, parsed);
        assertThat(parsed.get().completionCeiling(4096)).isEqualTo(8192);

        // Not a positive integer: the upstream judges it; the ceiling counts one choice.
        run("{\"model\":\"x/y\",\"max_tokens\":10,\"n\":\"two\"}", null, parsed);
        assertThat(parsed.get().completionCeiling(4096)).isEqualTo(10);

        run("{\"model\":\"x/y\",\"max_tokens\":9223372036854775807,\"n\":4}", null, parsed);
        assertThat(parsed.get().completionCeiling(4096)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void aliasWithCharactersThatNeedEscapingIsWrittenAsValidJson() {
        AtomicReference<ProxyRequest> parsed = new AtomicReference<>();
        String out = run("{\"model\":\"fa\\u0073t\"}", null, parsed);
        assertThat(out).isEqualTo("{\"model\":\"openai/gpt-5-nano\"}");
    }

    @Test
    void bodyWithoutModelAndWithoutDefaultIsRefused() {
        AtomicReference<ProxyRequest> parsed = new AtomicReference<>();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> run("{\"messages\":[]}", null, parsed))
                .isInstanceOf(GatewayException.class)
                .hasMessageContaining("no model");
    }
}
