package io.switchboard.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.netty.http.client.HttpClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The demo upstream on its own loopback port, called as any OpenAI client would call a provider. */
class DemoUpstreamServerTest {

    private static final Duration FIRST_TOKEN = Duration.ofMillis(40);
    private static final Duration TOKEN_INTERVAL = Duration.ofMillis(15);
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static DemoUpstreamServer demo;
    private static OpenAIClient openai;

    @BeforeAll
    static void start() {
        demo = DemoUpstreamServer.start(new DemoProperties(true, FIRST_TOKEN, TOKEN_INTERVAL));
        openai = OpenAIOkHttpClient.builder()
                .baseUrl(demo.baseUrl().toString())
                .apiKey("unused")
                .maxRetries(0)
                .build();
    }

    @AfterAll
    static void stop() {
        openai.close();
        demo.close();
    }

    private static ChatCompletionCreateParams chat(String model, String prompt) {
        return ChatCompletionCreateParams.builder()
                .model(model)
                .addUserMessage(prompt)
                .build();
    }

    @Test
    void listensOnLoopbackOnlyUnderV1() {
        assertThat(demo.baseUrl().getHost()).isEqualTo("127.0.0.1");
        assertThat(demo.baseUrl().getPath()).isEqualTo("/v1");
        assertThat(demo.providerProperties().models()).containsExactly("demo/*");
    }

    @Test
    void samePromptGetsTheSameAnswerWithUsageAndCost() {
        ChatCompletion first = openai.chat().completions().create(chat("demo/chat", "Hello there"));
        ChatCompletion second = openai.chat().completions().create(chat("demo/chat", "Hello there"));
        String text = first.choices().get(0).message().content().orElseThrow();
        assertThat(text)
                .isNotBlank()
                .isEqualTo(second.choices().get(0).message().content().orElseThrow());
        assertThat(first.id()).startsWith("gen-demo-").isNotEqualTo(second.id());
        long completionTokens = first.usage().orElseThrow().completionTokens();
        assertThat(completionTokens).isEqualTo(text.split(" ").length);
        double cost =
                first.usage().orElseThrow()._additionalProperties().get("cost").convert(Double.class);
        assertThat(cost).isPositive();
    }

    @Test
    void maxTokensCutsTheAnswerWithFinishReasonLength() {
        ChatCompletion answer = openai.chat()
                .completions()
                .create(ChatCompletionCreateParams.builder()
                        .model("demo/mini")
                        .addUserMessage("Tell me everything")
                        .maxCompletionTokens(5)
                        .build());
        assertThat(answer.usage().orElseThrow().completionTokens()).isEqualTo(5);
        assertThat(answer.choices().get(0).finishReason().asString()).isEqualTo("length");
    }

    @Test
    void streamsOneTokenPerChunkAtTheConfiguredPaceAndEndsWithUsage() {
        long start = System.nanoTime();
        List<Long> arrivals = new ArrayList<>();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream =
                openai.chat().completions().createStreaming(chat("demo/chat", "Stream please"))) {
            stream.stream().forEach(chunk -> {
                arrivals.add(System.nanoTime());
                chunks.add(chunk);
                chunk.choices().forEach(c -> c.delta().content().ifPresent(text::append));
            });
        }
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertThat(last.choices()).isEmpty();
        long completionTokens = last.usage().orElseThrow().completionTokens();
        assertThat(completionTokens).isGreaterThanOrEqualTo(20);
        ChatCompletion whole = openai.chat().completions().create(chat("demo/chat", "Stream please"));
        assertThat(text.toString())
                .isEqualTo(whole.choices().get(0).message().content().orElseThrow());
        // Paced, not sent in one burst: the last token cannot arrive before the first-token delay plus
        // one interval per further token (a lower bound that holds however loaded the machine is).
        Duration lastToken = Duration.ofNanos(arrivals.get((int) completionTokens) - start);
        assertThat(lastToken)
                .isGreaterThanOrEqualTo(FIRST_TOKEN.plus(TOKEN_INTERVAL.multipliedBy(completionTokens - 1)));
    }

    @Test
    void generationLookupReportsWhatTheAnswerCost() {
        ChatCompletion answer = openai.chat().completions().create(chat("demo/large", "What does it cost?"));
        JsonNode generation = get("/generation?id=" + answer.id()).path("data");
        assertThat(generation.path("id").asString()).isEqualTo(answer.id());
        assertThat(generation.path("model").asString()).isEqualTo("demo/large");
        assertThat(generation.path("tokens_completion").asLong())
                .isEqualTo(answer.usage().orElseThrow().completionTokens());
        assertThat(generation.path("total_cost").asDouble())
                .isEqualTo(answer.usage()
                        .orElseThrow()
                        ._additionalProperties()
                        .get("cost")
                        .convert(Double.class));
        assertThat(generation.path("cancelled").asBoolean()).isFalse();
    }

    @Test
    void aClientThatLeavesMidStreamLeavesACancelledGenerationWithThePartialTokens() {
        long fullAnswer = openai.chat()
                .completions()
                .create(chat("demo/chat", "bye"))
                .usage()
                .orElseThrow()
                .completionTokens();
        String body =
                "{\"model\":\"demo/chat\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"bye\"}]}";
        String[] generationId = new String[1];
        HttpClient.create()
                .headers(h -> h.add("Content-Type", "application/json"))
                .post()
                .uri(demo.baseUrl() + "/chat/completions")
                .send((req, out) -> out.sendString(reactor.core.publisher.Mono.just(body)))
                .response((response, content) -> {
                    generationId[0] = response.responseHeaders().get("X-Generation-Id");
                    return content.asString().take(3);
                })
                .blockLast(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            JsonNode generation = get("/generation?id=" + generationId[0]).path("data");
            assertThat(generation.path("cancelled").asBoolean()).isTrue();
            assertThat(generation.path("tokens_completion").asLong()).isLessThan(fullAnswer);
        });
    }

    @Test
    void modelsListPricesPerToken() {
        JsonNode models = get("/models");
        assertThat(models.path("data").valueStream().map(m -> m.path("id").asString()))
                .contains("demo/chat", "demo/mini", "demo/large", "demo/error");
        JsonNode chat = models.path("data")
                .valueStream()
                .filter(m -> m.path("id").asString().equals("demo/chat"))
                .findFirst()
                .orElseThrow();
        assertThat(chat.path("pricing").path("prompt").asString()).isEqualTo("0.0000005");
        assertThat(chat.path("pricing").path("completion").asString()).isEqualTo("0.0000015");
    }

    @Test
    void demoErrorModelFailsWithAnOpenAiShaped503() {
        assertThat(status("/chat/completions", "{\"model\":\"demo/error\",\"messages\":[]}"))
                .isEqualTo(503);
        assertThat(status("/chat/completions", "{\"model\":\"openai/gpt-5\",\"messages\":[]}"))
                .isEqualTo(404);
        assertThat(status("/chat/completions", "not json")).isEqualTo(400);
    }

    private static JsonNode get(String path) {
        String body = HttpClient.create()
                .get()
                .uri(demo.baseUrl() + path)
                .responseContent()
                .aggregate()
                .asString()
                .block(Duration.ofSeconds(5));
        return JSON.readTree(body);
    }

    private static int status(String path, String body) {
        return HttpClient.create()
                .post()
                .uri(demo.baseUrl() + path)
                .send((req, out) -> out.sendString(reactor.core.publisher.Mono.just(body)))
                .responseSingle((response, content) -> content.asString()
                        .defaultIfEmpty("")
                        .map(text -> {
                            assertThat(JSON.readTree(text)
                                            .path("error")
                                            .path("message")
                                            .asString())
                                    .isNotBlank();
                            return response.status().code();
                        }))
                .block(Duration.ofSeconds(5));
    }
}
