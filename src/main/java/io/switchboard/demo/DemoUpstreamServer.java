package io.switchboard.demo;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.switchboard.upstream.ProviderProperties;
import io.switchboard.upstream.StreamUsage;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * An OpenAI-compatible server on a loopback port, started before the provider registry so that the
 * registry can name its real port and stay immutable. Requests reach it through the gateway's normal
 * proxy path, keys, limits and usage included; it is never called directly by the data plane.
 */
public final class DemoUpstreamServer implements AutoCloseable {

    /** The provider name the demo upstream is registered under. */
    public static final String PROVIDER_NAME = "demo";

    private static final Logger log = LoggerFactory.getLogger(DemoUpstreamServer.class);

    private final DisposableServer server;
    private final JsonMapper json = JsonMapper.builder().build();
    private final DemoGenerations generations = new DemoGenerations();

    private DemoUpstreamServer(DemoProperties properties) {
        DemoCompletionsHandler completions = new DemoCompletionsHandler(json, generations, properties);
        this.server = HttpServer.create()
                .host("127.0.0.1")
                .port(0)
                .route(routes -> routes.post("/v1/chat/completions", completions::chat)
                        .post("/v1/completions", completions::completion)
                        .post("/v1/embeddings", this::embeddings)
                        .get("/v1/models", this::models)
                        .get("/v1/generation", this::generation)
                        .route(
                                request -> true,
                                (request, response) -> DemoBodies.error(
                                        response,
                                        json,
                                        HttpResponseStatus.NOT_FOUND,
                                        "Unknown demo endpoint",
                                        "not_found")))
                .bindNow(Duration.ofSeconds(10));
    }

    /** Binds the server and says loudly that the gateway runs in demo mode. */
    public static DemoUpstreamServer start(DemoProperties properties) {
        DemoUpstreamServer demo = new DemoUpstreamServer(properties);
        String line = "=".repeat(96);
        log.warn(line);
        log.warn("DEMO MODE: the built-in demo upstream answers models demo/* on {}", demo.baseUrl());
        log.warn("Its answers are canned text and its costs are simulated; no real model is called.");
        log.warn(
                "Try model demo/chat, demo/mini, demo/large or demo/error. Turn it off with gateway.demo.enabled=false;");
        log.warn("it is on by default only while no provider api-key (e.g. OPENROUTER_API_KEY) is set.");
        log.warn(line);
        return demo;
    }

    public URI baseUrl() {
        InetSocketAddress address = (InetSocketAddress) server.address();
        return URI.create("http://127.0.0.1:" + address.getPort() + "/v1");
    }

    /** The provider entry for the registry: only {@code demo/*} models, usage at the end of every stream. */
    public ProviderProperties providerProperties() {
        return new ProviderProperties(
                baseUrl(),
                null,
                Duration.ofSeconds(2),
                Duration.ofSeconds(30),
                Duration.ofSeconds(30),
                StreamUsage.ALWAYS,
                List.of("demo/*"),
                1000,
                Duration.ofSeconds(20));
    }

    private Publisher<Void> models(HttpServerRequest request, HttpServerResponse response) {
        ObjectNode body = json.createObjectNode().put("object", "list");
        ArrayNode data = body.putArray("data");
        for (DemoModel model : DemoModel.CATALOG) {
            ObjectNode node = data.addObject()
                    .put("id", model.id())
                    .put("object", "model")
                    .put("created", 1767225600L)
                    .put("owned_by", "switchboard-demo")
                    .put("name", model.name())
                    .put("description", model.description())
                    .put("context_length", 8192);
            // OpenRouter publishes prices as decimal strings in USD per token.
            node.putObject("pricing")
                    .put("prompt", plain(model.promptPrice()))
                    .put("completion", plain(model.completionPrice()))
                    .put("request", "0")
                    .put("image", "0");
        }
        return DemoBodies.json(response, json, HttpResponseStatus.OK, body);
    }

    private Publisher<Void> generation(HttpServerRequest request, HttpServerResponse response) {
        List<String> ids = new QueryStringDecoder(request.uri()).parameters().getOrDefault("id", List.of());
        DemoGenerations.Generation found = ids.isEmpty() ? null : generations.find(ids.get(0));
        if (found == null) {
            return DemoBodies.error(response, json, HttpResponseStatus.NOT_FOUND, "Generation not found", "not_found");
        }
        ObjectNode body = json.createObjectNode();
        // The shape of OpenRouter's GET /api/v1/generation answer, which settles interrupted streams.
        body.putObject("data")
                .put("id", found.id())
                .put("model", found.model())
                .put("provider_name", "Switchboard Demo")
                .put("streamed", found.streamed())
                .put("cancelled", found.cancelled())
                .put("tokens_prompt", found.promptTokens())
                .put("tokens_completion", found.completionTokens())
                .put("native_tokens_prompt", found.promptTokens())
                .put("native_tokens_completion", found.completionTokens())
                .put("total_cost", found.cost())
                .put("usage", found.cost())
                .put("finish_reason", found.finishReason())
                .put("created_at", found.createdAt().toString())
                .put("latency", found.latencyMs())
                .put("generation_time", found.latencyMs());
        return DemoBodies.json(response, json, HttpResponseStatus.OK, body);
    }

    private Publisher<Void> embeddings(HttpServerRequest request, HttpServerResponse response) {
        return DemoBodies.read(request, 1024 * 1024, json)
                .flatMap(body -> {
                    String model = body.path("model").asString("demo/embed");
                    JsonNode input = body.path("input");
                    List<String> inputs = input.isArray()
                            ? input.valueStream().map(n -> n.asString("")).toList()
                            : List.of(input.asString(""));
                    ObjectNode answer =
                            json.createObjectNode().put("object", "list").put("model", model);
                    ArrayNode data = answer.putArray("data");
                    long tokens = 0;
                    for (int i = 0; i < inputs.size(); i++) {
                        tokens += DemoAnswer.promptTokens(inputs.get(i), 0);
                        ArrayNode vector = data.addObject()
                                .put("object", "embedding")
                                .put("index", i)
                                .putArray("embedding");
                        SplittableRandom random =
                                new SplittableRandom(inputs.get(i).hashCode());
                        for (int d = 0; d < 16; d++) {
                            vector.add(Math.round((random.nextDouble() * 2 - 1) * 1e6) / 1e6);
                        }
                    }
                    answer.putObject("usage")
                            .put("prompt_tokens", tokens)
                            .put("total_tokens", tokens)
                            .put("cost", DemoModel.forId(model).cost(tokens, 0));
                    return DemoBodies.json(response, json, HttpResponseStatus.OK, answer);
                })
                .onErrorResume(
                        DemoBodies.BadRequest.class,
                        e -> DemoBodies.error(
                                response, json, HttpResponseStatus.BAD_REQUEST, e.getMessage(), "invalid_json"));
    }

    private static String plain(double price) {
        return java.math.BigDecimal.valueOf(price).stripTrailingZeros().toPlainString();
    }

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(5));
    }
}
