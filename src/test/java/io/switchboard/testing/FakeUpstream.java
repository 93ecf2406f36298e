package io.switchboard.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * An OpenAI-compatible upstream on a loopback port for tests: records every request it receives
 * (method, path, headers, exact body bytes) and answers with scripted replies, including streams
 * that pause, wait for the test, go silent or reset. POST replies are taken from a queue in order;
 * with none queued it answers a small chat completion. GET requests (the gateway's own background
 * calls: {@code /models}, {@code /generation}) are answered by path and never take a queued reply,
 * so a background call cannot steal the reply a test set up for its data-plane request.
 */
public final class FakeUpstream implements AutoCloseable {

    /** One request as the upstream saw it. */
    public record Received(String method, String path, HttpHeaders headers, byte[] body, Connection connection) {
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public String header(String name) {
            return headers.get(name);
        }
    }

    /** The upstream side of one client connection: tells when the gateway closed it. */
    public static final class Connection {
        private final CompletableFuture<Long> closedAtNanos = new CompletableFuture<>();
        private final String peer;

        Connection(String peer) {
            this.peer = peer;
        }

        /** The gateway's end of the connection (address and port): the same for every request it carried. */
        public String peer() {
            return peer;
        }

        public CompletableFuture<Long> closed() {
            return closedAtNanos;
        }
    }

    /** What the fake does with one request. */
    @FunctionalInterface
    public interface Reply {
        Publisher<Void> answer(HttpServerRequest request, HttpServerResponse response, Received received);
    }

    private final DisposableServer server;
    // Lock-free on the fake's event loop (a LinkedBlockingQueue's lock parked it under a burst of
    // 200 requests, which BlockHound rightly reported); the semaphore counts what takeRequest may take.
    private final ConcurrentLinkedQueue<Received> received = new ConcurrentLinkedQueue<>();
    private final Semaphore receivedCount = new Semaphore(0);
    private final List<Received> all = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<Reply> replies = new ConcurrentLinkedQueue<>();
    private final Map<String, Reply> getReplies = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicInteger connections = new AtomicInteger();

    private FakeUpstream(Duration keepAlive) {
        HttpServer server = HttpServer.create()
                .host("127.0.0.1")
                .port(0)
                .childOption(ChannelOption.SO_LINGER, 0)
                .handle(this::handle);
        if (keepAlive != null) {
            server = server.idleTimeout(keepAlive);
        }
        this.server = server.bindNow();
    }

    public static FakeUpstream start() {
        return new FakeUpstream(null);
    }

    /** An upstream that closes a keep-alive connection idle for {@code keepAlive}, as load balancers do. */
    public static FakeUpstream withKeepAlive(Duration keepAlive) {
        return new FakeUpstream(keepAlive);
    }

    /** The base URL as OpenRouter spells it: {@code http://127.0.0.1:<port>/api/v1}. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.port() + "/api/v1";
    }

    public int port() {
        return server.port();
    }

    public FakeUpstream enqueue(Reply reply) {
        replies.add(reply);
        return this;
    }

    /** Answers GET requests whose path ends with {@code pathSuffix} (before any query) with {@code reply}. */
    public FakeUpstream whenGet(String pathSuffix, Reply reply) {
        getReplies.put(pathSuffix, reply);
        return this;
    }

    /** Forgets recorded requests, queued replies and GET replies. */
    public void reset() {
        replies.clear();
        getReplies.clear();
        received.clear();
        receivedCount.drainPermits();
        all.clear();
    }

    /** The next request received, waiting up to 5 s for it. */
    public Received takeRequest() {
        try {
            Received next = receivedCount.tryAcquire(5, TimeUnit.SECONDS) ? received.poll() : null;
            if (next == null) {
                throw new AssertionError("the fake upstream received no request within 5 s");
            }
            return next;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public List<Received> requests() {
        return List.copyOf(all);
    }

    /** How many data-plane (POST) requests arrived; the gateway's own background GETs do not count. */
    public int requestCount() {
        return (int) all.stream().filter(r -> r.method().equals("POST")).count();
    }

    private Publisher<Void> handle(HttpServerRequest request, HttpServerResponse response) {
        Connection connection = new Connection(String.valueOf(request.remoteAddress()));
        request.withConnection(c -> c.onDispose(() -> connection.closedAtNanos.complete(System.nanoTime())));
        return request.receive()
                .aggregate()
                .asByteArray()
                .defaultIfEmpty(new byte[0])
                .flatMap(body -> {
                    Received r = new Received(
                            request.method().name(),
                            request.uri(),
                            request.requestHeaders().copy(),
                            body,
                            connection);
                    all.add(r);
                    if (request.method().name().equals("GET")) {
                        return Mono.from(getReply(request.uri()).answer(request, response, r));
                    }
                    received.add(r);
                    receivedCount.release();
                    Reply reply = replies.poll();
                    if (reply == null) {
                        reply = chatCompletion("fake answer", 11, 7);
                    }
                    return Mono.from(reply.answer(request, response, r));
                });
    }

    private Reply getReply(String uri) {
        String path = uri.contains("?") ? uri.substring(0, uri.indexOf('?')) : uri;
        for (Map.Entry<String, Reply> entry : getReplies.entrySet()) {
            if (path.endsWith(entry.getKey())) {
                return entry.getValue();
            }
        }
        if (path.endsWith("/models")) {
            return json(200, MODELS, Map.of());
        }
        return json(404, "{\"error\":{\"message\":\"not found\",\"code\":404}}", Map.of());
    }

    /** A model list in OpenRouter's shape, prices in USD per token. */
    public static final String MODELS = "{\"object\":\"list\",\"data\":["
            + "{\"id\":\"openai/gpt-5-nano\",\"name\":\"GPT-5 Nano\",\"pricing\":{\"prompt\":\"0.00000005\",\"completion\":\"0.0000004\"}},"
            + "{\"id\":\"anthropic/claude-3.5-haiku\",\"name\":\"Claude 3.5 Haiku\",\"pricing\":{\"prompt\":\"0.0000008\",\"completion\":\"0.000004\"}},"
            + "{\"id\":\"strict/model\",\"pricing\":{\"prompt\":\"0.000001\",\"completion\":\"0.000002\"}}]}";

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(5));
    }

    // ---- replies

    /** A non-streaming chat completion with usage. */
    public static Reply chatCompletion(String text, int promptTokens, int completionTokens) {
        String body = "{\"id\":\"gen-fake-1\",\"object\":\"chat.completion\",\"created\":1700000000,"
                + "\"model\":\"openai/gpt-5-nano\",\"provider\":\"OpenAI\",\"choices\":[{\"index\":0,\"message\":"
                + "{\"role\":\"assistant\",\"content\":\"" + text + "\"},\"finish_reason\":\"stop\"}],\"usage\":"
                + "{\"prompt_tokens\":" + promptTokens + ",\"completion_tokens\":" + completionTokens
                + ",\"total_tokens\":" + (promptTokens + completionTokens) + ",\"cost\":0.0001}}";
        return json(200, body, Map.of("X-Generation-Id", "gen-fake-1"));
    }

    /** A JSON answer with a status and extra headers. */
    public static Reply json(int status, String body, Map<String, String> headers) {
        return raw(status, "application/json", body, headers);
    }

    public static Reply raw(int status, String contentType, String body, Map<String, String> headers) {
        return (request, response, received) -> {
            response.status(status);
            if (contentType != null) {
                response.header("Content-Type", contentType);
            }
            headers.forEach(response::header);
            return response.sendString(Mono.just(body));
        };
    }

    /** A stream of steps, each flushed at once. */
    public static Reply sse(List<Step> steps) {
        return sse(Map.of(), steps);
    }

    public static Reply sse(Map<String, String> headers, List<Step> steps) {
        Map<String, String> all = new java.util.LinkedHashMap<>(headers);
        all.put("Cache-Control", "no-cache");
        return streamed(200, "text/event-stream", all, steps);
    }

    /** Any answer sent as scripted steps (chunked, no length), each piece flushed at once. */
    public static Reply streamed(int status, String contentType, Map<String, String> headers, List<Step> steps) {
        return (request, response, received) -> {
            response.status(status).header("Content-Type", contentType);
            headers.forEach(response::header);
            Flux<ByteBuf> body = Flux.fromIterable(steps).concatMap(step -> step.run(response));
            return response.send(body, b -> true).then();
        };
    }

    /** Answers headers, then never sends a byte. */
    public static Reply silentAfterHeaders() {
        return (request, response, received) -> {
            response.status(200).header("Content-Type", "text/event-stream");
            return response.sendHeaders().then().then(Mono.never());
        };
    }

    /** Reads the request whole, then drops the connection (a reset) without a byte of answer. */
    public static Reply dropConnection() {
        return (request, response, received) -> {
            response.withConnection(c -> c.channel().close());
            return Mono.never();
        };
    }

    /** Accepts the request and never answers. */
    public static Reply neverAnswer() {
        return (request, response, received) -> Mono.never();
    }

    /** One action in a scripted stream. */
    @FunctionalInterface
    public interface Step {
        Publisher<ByteBuf> run(HttpServerResponse response);
    }

    public static Step send(String text) {
        return response -> Mono.just(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    }

    /**
     * Sends each piece only when the connection takes more (pulled on demand), so a gateway that
     * pushes back stalls the producer and one that buffers does not.
     */
    public static Step sendEach(Flux<byte[]> pieces) {
        return response -> pieces.map(Unpooled::wrappedBuffer);
    }

    /** Completes {@code signal} when the steps before it have been handed to the connection. */
    public static Step mark(CompletableFuture<Void> signal) {
        return response -> Mono.<ByteBuf>empty().doOnSubscribe(s -> signal.complete(null));
    }

    public static Step pause(Duration duration) {
        return response -> Mono.<ByteBuf>empty().delaySubscription(duration);
    }

    /** Waits, without sending, until the test completes the future (e.g. "the client has event 1"). */
    public static Step await(CompletableFuture<?> signal) {
        return response ->
                Mono.fromFuture(signal).timeout(Duration.ofSeconds(10)).then(Mono.empty());
    }

    /** Resets the connection (TCP RST): the stream ends without its terminating chunk. */
    public static Step resetConnection() {
        return response -> {
            response.withConnection(c -> c.channel().close());
            return Mono.never();
        };
    }

    /** Sends events forever, one every {@code period}, until the connection closes. */
    public static Step endless(Duration period, Function<Long, String> event) {
        if (period.isZero()) {
            // As fast as the connection takes it: pulled on demand, so backpressure reaches here.
            return response -> Flux.<ByteBuf, Long>generate(() -> 0L, (i, sink) -> {
                sink.next(Unpooled.copiedBuffer(event.apply(i), StandardCharsets.UTF_8));
                return i + 1;
            });
        }
        return response ->
                Flux.interval(period).map(i -> Unpooled.copiedBuffer(event.apply(i), StandardCharsets.UTF_8));
    }

    /** A chat-completion chunk event. */
    public static String chunk(String content) {
        return "data: {\"id\":\"gen-fake-1\",\"object\":\"chat.completion.chunk\",\"model\":\"openai/gpt-5-nano\","
                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + content + "\"},\"finish_reason\":null}]}\n\n";
    }

    /** OpenRouter's final usage event (empty choices) then {@code [DONE]}. */
    public static String usageAndDone(int prompt, int completion) {
        return "data: {\"id\":\"gen-fake-1\",\"object\":\"chat.completion.chunk\",\"model\":\"openai/gpt-5-nano\","
                + "\"provider\":\"OpenAI\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + prompt
                + ",\"completion_tokens\":"
                + completion + ",\"total_tokens\":" + (prompt + completion) + ",\"cost\":0.0002}}\n\ndata: [DONE]\n\n";
    }
}
