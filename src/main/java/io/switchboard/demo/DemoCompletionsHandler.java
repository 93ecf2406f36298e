package io.switchboard.demo;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code POST /chat/completions} and {@code POST /completions}, streamed or not, answered the way
 * OpenRouter answers: a processing comment first, one chunk per token, a finish chunk, a usage chunk
 * with the cost, then {@code [DONE]}.
 */
final class DemoCompletionsHandler {

    private static final int MAX_BODY = 1024 * 1024;

    private final JsonMapper json;
    private final DemoGenerations generations;
    private final Duration firstTokenDelay;
    private final Duration tokenInterval;

    DemoCompletionsHandler(JsonMapper json, DemoGenerations generations, DemoProperties properties) {
        this.json = json;
        this.generations = generations;
        this.firstTokenDelay = properties.firstTokenDelay();
        this.tokenInterval = properties.tokenInterval();
    }

    Publisher<Void> chat(HttpServerRequest request, HttpServerResponse response) {
        return handle(request, response, true);
    }

    Publisher<Void> completion(HttpServerRequest request, HttpServerResponse response) {
        return handle(request, response, false);
    }

    private Publisher<Void> handle(HttpServerRequest request, HttpServerResponse response, boolean chat) {
        return DemoBodies.read(request, MAX_BODY, json)
                .flatMap(body -> {
                    DemoRequest parsed = chat ? DemoRequest.chat(body) : DemoRequest.completion(body);
                    if (!parsed.model().startsWith("demo/")) {
                        return DemoBodies.error(
                                response,
                                json,
                                HttpResponseStatus.NOT_FOUND,
                                "Model " + parsed.model() + " is not a demo model",
                                "model_not_found");
                    }
                    if (DemoModel.FAILING.equals(parsed.model())) {
                        return DemoBodies.error(
                                response,
                                json,
                                HttpResponseStatus.SERVICE_UNAVAILABLE,
                                "The demo model demo/error always fails",
                                "provider_unavailable");
                    }
                    Exchange exchange = new Exchange(parsed, chat);
                    response.header("X-Generation-Id", exchange.id);
                    return parsed.stream() ? stream(response, exchange) : whole(response, exchange);
                })
                .onErrorResume(
                        DemoBodies.BadRequest.class,
                        e -> DemoBodies.error(
                                response, json, HttpResponseStatus.BAD_REQUEST, e.getMessage(), "invalid_json"));
    }

    private Mono<Void> whole(HttpServerResponse response, Exchange exchange) {
        Duration generation = firstTokenDelay.plus(
                tokenInterval.multipliedBy(exchange.answer.tokens().size()));
        return Mono.delay(generation).flatMap(tick -> {
            exchange.record(exchange.answer.tokens().size(), false);
            ObjectNode body = exchange.envelope(exchange.chat ? "chat.completion" : "text_completion");
            ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
            if (exchange.chat) {
                choice.putObject("message").put("role", "assistant").put("content", exchange.answer.text());
            } else {
                choice.put("text", exchange.answer.text());
            }
            choice.put("finish_reason", exchange.answer.finishReason());
            body.set("usage", exchange.usage(exchange.answer.tokens().size()));
            return DemoBodies.json(response, json, HttpResponseStatus.OK, body);
        });
    }

    private Mono<Void> stream(HttpServerResponse response, Exchange exchange) {
        AtomicInteger sent = new AtomicInteger();
        int total = exchange.answer.tokens().size();
        // Each token waits its interval after the previous one was sent (not a fixed rate that would
        // catch up in a burst after a stall), so an answer is never faster than a real model's.
        Flux<String> tokens = Flux.range(0, total)
                .concatMap(i ->
                        Mono.delay(i == 0 ? firstTokenDelay : tokenInterval).thenReturn(i))
                .map(i -> {
                    sent.incrementAndGet();
                    return event(exchange.chunk(exchange.answer.tokens().get(i), i == 0, null));
                });
        Flux<String> ending = Flux.defer(() -> Flux.just(
                event(exchange.chunk("", false, exchange.answer.finishReason())),
                event(exchange.usageChunk(total)),
                "data: [DONE]\n\n"));
        Flux<String> events = Flux.concat(Flux.just(": SWITCHBOARD DEMO PROCESSING\n\n"), tokens, ending)
                // A client that leaves still leaves a generation record, as a real provider bills it.
                .doFinally(signal -> exchange.record(sent.get(), signal == SignalType.CANCEL));
        Flux<ByteBuf> buffers = events.map(s -> ByteBufUtil.writeUtf8(response.alloc(), s));
        return response.status(HttpResponseStatus.OK)
                .header(HttpHeaderNames.CONTENT_TYPE, "text/event-stream")
                .header(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .send(buffers, b -> true)
                .then();
    }

    private String event(JsonNode node) {
        return "data: " + json.writeValueAsString(node) + "\n\n";
    }

    /** One answer in progress: its id, model, canned text and the moment it started. */
    private final class Exchange {
        final String id = generations.nextId();
        final Instant started = Instant.now();
        final DemoRequest request;
        final DemoModel model;
        final DemoAnswer answer;
        final long promptTokens;
        final boolean chat;

        Exchange(DemoRequest request, boolean chat) {
            this.request = request;
            this.chat = chat;
            this.model = DemoModel.forId(request.model());
            this.answer = DemoAnswer.to(request.model(), request.prompt(), request.maxTokens());
            this.promptTokens = DemoAnswer.promptTokens(request.prompt(), request.messages());
        }

        ObjectNode envelope(String object) {
            ObjectNode node = json.createObjectNode();
            node.put("id", id);
            node.put("object", object);
            node.put("created", started.getEpochSecond());
            node.put("model", request.model());
            node.put("provider", "Switchboard Demo");
            return node;
        }

        ObjectNode chunk(String token, boolean first, String finishReason) {
            ObjectNode node = envelope(chat ? "chat.completion.chunk" : "text_completion");
            ObjectNode choice = node.putArray("choices").addObject().put("index", 0);
            if (chat) {
                ObjectNode delta = choice.putObject("delta");
                if (first) {
                    delta.put("role", "assistant");
                }
                if (finishReason == null) {
                    delta.put("content", token);
                }
            } else {
                choice.put("text", token);
            }
            if (finishReason == null) {
                choice.putNull("finish_reason");
            } else {
                choice.put("finish_reason", finishReason);
            }
            return node;
        }

        ObjectNode usageChunk(long completionTokens) {
            ObjectNode node = envelope(chat ? "chat.completion.chunk" : "text_completion");
            node.putArray("choices");
            node.set("usage", usage(completionTokens));
            return node;
        }

        ObjectNode usage(long completionTokens) {
            ObjectNode usage = json.createObjectNode();
            usage.put("prompt_tokens", promptTokens);
            usage.put("completion_tokens", completionTokens);
            usage.put("total_tokens", promptTokens + completionTokens);
            usage.put("cost", model.cost(promptTokens, completionTokens));
            usage.putObject("prompt_tokens_details").put("cached_tokens", 0);
            usage.putObject("completion_tokens_details").put("reasoning_tokens", 0);
            return usage;
        }

        void record(long completionTokens, boolean cancelled) {
            generations.record(new DemoGenerations.Generation(
                    id,
                    request.model(),
                    request.stream(),
                    cancelled,
                    promptTokens,
                    completionTokens,
                    model.cost(promptTokens, completionTokens),
                    cancelled ? "cancelled" : answer.finishReason(),
                    started,
                    Duration.between(started, Instant.now()).toMillis()));
        }
    }
}
