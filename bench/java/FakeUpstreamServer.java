import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The benchmark's upstream: an OpenAI-compatible chat endpoint on loopback that costs as little as
 * possible, so the figures measure the proxy in front of it, not the fake.
 *
 * <p>{@code POST .../chat/completions} answers a fixed small completion at once. With {@code
 * "stream":true} it answers a paced SSE stream instead; the body may carry {@code
 * "bench_events":N} (default 64), {@code "bench_delay_ms":D} (default 20) and {@code
 * "bench_idle":true} (one event, then silence until the client leaves). Fields in the body rather
 * than the query or headers, because a proxy forwards unknown body fields unchanged. Every event
 * carries {@code "i"} (its index) and {@code "t"} ({@link System#nanoTime()} when it was handed to
 * Netty; HotSpot reads CLOCK_MONOTONIC on Linux, so a client on the same machine can subtract it
 * from its own clock to get the delivery delay of each event).
 *
 * <p>Usage: {@code java FakeUpstreamServer <port>} (0 picks one); prints {@code PORT=<n>}.
 */
public final class FakeUpstreamServer {

    private static final Pattern STREAM = Pattern.compile("\"stream\"\\s*:\\s*true");
    private static final Pattern EVENTS = Pattern.compile("\"bench_events\"\\s*:\\s*(\\d+)");
    private static final Pattern DELAY = Pattern.compile("\"bench_delay_ms\"\\s*:\\s*(\\d+)");
    private static final Pattern IDLE = Pattern.compile("\"bench_idle\"\\s*:\\s*true");

    private static final byte[] COMPLETION = ("{\"id\":\"gen-bench-1\",\"object\":\"chat.completion\","
                    + "\"created\":1700000000,\"model\":\"openai/gpt-5-nano\",\"provider\":\"OpenAI\","
                    + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi!\"},"
                    + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,"
                    + "\"total_tokens\":11,\"cost\":0.0000011}}")
            .getBytes(StandardCharsets.UTF_8);
    private static final byte[] MODELS = ("{\"object\":\"list\",\"data\":[{\"id\":\"openai/gpt-5-nano\","
                    + "\"object\":\"model\",\"created\":1700000000,\"owned_by\":\"openai\"}]}")
            .getBytes(StandardCharsets.UTF_8);
    private static final String USAGE_EVENT = "data: {\"id\":\"gen-bench-1\",\"object\":\"chat.completion.chunk\","
            + "\"created\":1700000000,\"model\":\"openai/gpt-5-nano\",\"choices\":[],\"usage\":"
            + "{\"prompt_tokens\":9,\"completion_tokens\":%d,\"total_tokens\":%d,\"cost\":0.00001}}\n\n"
            + "data: [DONE]\n\n";

    public static void main(String[] args) {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        DisposableServer server = HttpServer.create()
                .host("127.0.0.1")
                .port(port)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .handle(FakeUpstreamServer::handle)
                .bindNow();
        System.out.println("PORT=" + server.port());
        System.out.flush();
        server.onDispose().block();
    }

    private static Mono<Void> handle(HttpServerRequest request, HttpServerResponse response) {
        String path = request.path();
        if (request.method().name().equals("GET") && path.endsWith("models")) {
            return json(response, MODELS);
        }
        if (!request.method().name().equals("POST") || !path.endsWith("chat/completions")) {
            response.status(404);
            return json(response, "{\"error\":{\"message\":\"not found\",\"code\":404}}".getBytes());
        }
        return request.receive().aggregate().asString(StandardCharsets.UTF_8).defaultIfEmpty("").flatMap(body -> {
            if (!STREAM.matcher(body).find()) {
                return json(response, COMPLETION);
            }
            boolean idle = IDLE.matcher(body).find();
            int events = intField(EVENTS, body, 64);
            long delayMs = intField(DELAY, body, 20);
            response.status(200)
                    .header("Content-Type", "text/event-stream")
                    .header("Cache-Control", "no-cache")
                    .header("X-Generation-Id", "gen-bench-1");
            Flux<ByteBuf> sse = idle ? idle() : paced(events, Duration.ofMillis(delayMs));
            // Flush every event on its own: the fake must never be the one that holds an event back.
            return response.send(sse, b -> true).then();
        });
    }

    private static Flux<ByteBuf> paced(int events, Duration delay) {
        Flux<ByteBuf> ticks = Flux.interval(Duration.ZERO, delay).take(events).map(i -> event(i.intValue()));
        return ticks.concatWith(Mono.fromSupplier(() -> utf8(String.format(USAGE_EVENT, events, events + 9))));
    }

    /** One event, then nothing until the client goes; the connection stays open meanwhile. */
    private static Flux<ByteBuf> idle() {
        return Flux.concat(Mono.fromSupplier(() -> event(0)), Flux.never());
    }

    private static ByteBuf event(int i) {
        return utf8("data: {\"id\":\"gen-bench-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
                + "\"model\":\"openai/gpt-5-nano\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok\"},"
                + "\"finish_reason\":null}],\"i\":" + i + ",\"t\":" + System.nanoTime() + "}\n\n");
    }

    private static Mono<Void> json(HttpServerResponse response, byte[] body) {
        response.header("Content-Type", "application/json").header("Content-Length", String.valueOf(body.length));
        return response.sendObject(Unpooled.wrappedBuffer(body)).then();
    }

    private static ByteBuf utf8(String s) {
        return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.UTF_8));
    }

    private static int intField(Pattern p, String body, int fallback) {
        Matcher m = p.matcher(body);
        return m.find() ? Integer.parseInt(m.group(1)) : fallback;
    }
}
