package io.switchboard.proxy;

import static io.switchboard.testing.FakeUpstream.chunk;
import static io.switchboard.testing.FakeUpstream.pause;
import static io.switchboard.testing.FakeUpstream.send;
import static io.switchboard.testing.FakeUpstream.sse;
import static io.switchboard.testing.FakeUpstream.usageAndDone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.RateLimitException;
import com.openai.errors.SseException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FakeUpstreamInitializer;
import io.switchboard.testing.GatewayIntegrationTest;
import io.switchboard.testing.TestGateway;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;

/** The official OpenAI Java SDK, pointed at the gateway's base URL, works as it does against OpenAI. */
@GatewayIntegrationTest
class OpenAiSdkIT {

    @LocalServerPort
    int port;

    FakeUpstream upstream = FakeUpstreamInitializer.shared();
    OpenAIClient client;

    @BeforeEach
    void setUp() {
        upstream.reset();
        client = OpenAIOkHttpClient.builder()
                .apiKey(TestGateway.clientKey)
                .baseUrl(new TestGateway(port).baseUrl())
                .maxRetries(0)
                // Longer than the 10 s silence of the idle-timeout test's upstream.
                .timeout(Duration.ofSeconds(30))
                .build();
    }

    @AfterEach
    void tearDown() {
        client.close();
    }

    private static ChatCompletionCreateParams params(String model) {
        return ChatCompletionCreateParams.builder()
                .model(model)
                .addUserMessage("Say hello")
                .build();
    }

    @Test
    void nonStreamingCompletionThroughTheGateway() {
        upstream.enqueue(FakeUpstream.chatCompletion("Hello there", 9, 3));
        ChatCompletion completion = client.chat().completions().create(params("gpt-4o-mini"));
        assertThat(completion.choices().get(0).message().content()).hasValue("Hello there");
        assertThat(completion.usage().orElseThrow().totalTokens()).isEqualTo(12);
        FakeUpstream.Received received = upstream.takeRequest();
        assertThat(received.bodyText()).contains("\"model\":\"openai/gpt-5-nano\"");
        assertThat(received.header("Authorization")).isEqualTo("Bearer " + TestGateway.UPSTREAM_KEY);
    }

    @Test
    void streamingCompletionArrivesChunkByChunkWithCommentsIgnored() {
        upstream.enqueue(sse(List.of(
                send(": OPENROUTER PROCESSING\n\n"),
                send(chunk("Hel")),
                pause(Duration.ofMillis(50)),
                send(chunk("lo")),
                send(usageAndDone(4, 2)))));
        try (StreamResponse<ChatCompletionChunk> stream =
                client.chat().completions().createStreaming(params("openai/gpt-5-nano"))) {
            List<ChatCompletionChunk> chunks = stream.stream().toList();
            String text = chunks.stream()
                    .flatMap(c -> c.choices().stream())
                    .map(choice -> choice.delta().content().orElse(""))
                    .collect(Collectors.joining());
            assertThat(text).isEqualTo("Hello");
            assertThat(chunks.get(chunks.size() - 1).usage().orElseThrow().totalTokens())
                    .isEqualTo(6);
        }
    }

    @Test
    void upstreamRateLimitSurfacesAsTheSdksRateLimitException() {
        upstream.enqueue(FakeUpstream.json(
                429,
                "{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit_error\",\"code\":\"rate_limited\"}}",
                Map.of("Retry-After", "1")));
        assertThatThrownBy(() -> client.chat().completions().create(params("openai/gpt-5-nano")))
                .isInstanceOf(RateLimitException.class)
                .hasMessageContaining("slow down");
    }

    @Test
    void streamCutByIdleTimeoutIsAnErrorInTheSdk() {
        // The upstream goes silent for 10 s, far past strict's 700 ms idle timeout; the SDK's own
        // timeout is longer than that silence, so only the gateway's error event can end the
        // stream with an error (a stream left alone ends cleanly when the upstream's pause does).
        upstream.enqueue(sse(List.of(send(chunk("partial")), pause(Duration.ofSeconds(10)))));
        assertThatThrownBy(() -> {
                    try (StreamResponse<ChatCompletionChunk> stream =
                            client.chat().completions().createStreaming(params("strict/model"))) {
                        stream.stream().forEach(chunk -> {});
                    }
                })
                .asInstanceOf(InstanceOfAssertFactories.throwable(SseException.class))
                .satisfies(error -> {
                    assertThat(error.code()).hasValue("upstream_timeout");
                    assertThat(error.type()).hasValue("upstream_error");
                })
                .hasMessageContaining("went silent");
    }
}
