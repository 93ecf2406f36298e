package io.switchboard.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledHeapByteBuf;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.util.unit.DataSize;
import reactor.core.publisher.Flux;
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
                new BodyLimitProperties(DataSize.ofKilobytes(64), 16, java.time.Duration.ofSeconds(30)),
                new ModelRewrite(new ModelProperties(Map.of("fast", "openai/gpt-5-nano"), defaultModel)),
                providers,
                new LoopTimers());
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

    /**
     * A body sent a byte at a time (1-byte HTTP chunks) is copied about once: held as pieces of at
     * most 64, Netty copied the whole body into one buffer each time the pieces passed 64, which
     * made reading such a body quadratic (a few megabytes took an event loop minutes).
     */
    @Test
    void aBodyInOneByteChunksIsCopiedAboutOnceNotOverAndOver() {
        AtomicLong allocated = new AtomicLong();
        ByteBufAllocator counting = new AbstractByteBufAllocator(false) {
            @Override
            protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
                allocated.addAndGet(initialCapacity);
                return new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
            }

            @Override
            protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
                allocated.addAndGet(initialCapacity);
                return new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
            }

            @Override
            public boolean isDirectBufferPooled() {
                return false;
            }
        };
        String body = "{\"model\":\"openai/gpt-5-nano\",\"messages\":[{\"role\":\"user\",\"content\":\""
                + "x".repeat(60_000) + "\"}]}";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        NettyDataBufferFactory buffers = new NettyDataBufferFactory(UnpooledByteBufAllocator.DEFAULT);
        Flux<DataBuffer> oneByteChunks =
                Flux.range(0, bytes.length).map(i -> buffers.wrap(Unpooled.wrappedBuffer(bytes, i, 1)));
        RequestBodyWebFilter filter = new RequestBodyWebFilter(
                new BodyLimitProperties(DataSize.ofKilobytes(64), 16, Duration.ofSeconds(30)),
                new ModelRewrite(new ModelProperties(Map.of(), null)),
                providers,
                new LoopTimers(),
                counting);
        MockServerWebExchange exchange = MockServerWebExchange.from(
                MockServerHttpRequest.post("/v1/chat/completions").body(oneByteChunks));
        GatewayExchange.attach(
                exchange,
                new GatewayExchange(
                        "req-1", ProxyEndpoint.CHAT_COMPLETIONS, System.nanoTime(), System.currentTimeMillis()));
        AtomicReference<String> upstreamBody = new AtomicReference<>();
        filter.filter(exchange, ex -> {
                    ByteBuf prepared = UpstreamBody.find(ex).retainedDuplicate();
                    upstreamBody.set(prepared.toString(StandardCharsets.UTF_8));
                    prepared.release();
                    return Mono.empty();
                })
                .block(Duration.ofSeconds(30));
        assertThat(upstreamBody.get()).isEqualTo(body);
        assertThat(allocated.get())
                .as("bytes allocated to hold a body of %d bytes", bytes.length)
                .isLessThan(2L * bytes.length + 64 * 1024);
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

        // Zero or less: the upstream judges it; the ceiling counts one choice.
        run("{\"model\":\"x/y\",\"max_tokens\":10,\"n\":0}", null, parsed);
        assertThat(parsed.get().completionCeiling(4096)).isEqualTo(10);
        // Not an integer: refused, as lenient upstreams serve "2" or 2.0 as two choices.
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> run("{\"model\":\"x/y\",\"max_tokens\":10,\"n\":\"two\"}", null, parsed))
                .isInstanceOf(GatewayException.class)
                .hasMessageContaining("'n' must be an integer");

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
