package io.switchboard.proxy;

import static io.switchboard.testing.FakeUpstream.await;
import static io.switchboard.testing.FakeUpstream.chunk;
import static io.switchboard.testing.FakeUpstream.pause;
import static io.switchboard.testing.FakeUpstream.send;
import static io.switchboard.testing.FakeUpstream.sendEach;
import static io.switchboard.testing.FakeUpstream.sse;
import static io.switchboard.testing.FakeUpstream.usageAndDone;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpHeaders;
import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FakeUpstreamInitializer;
import io.switchboard.testing.GatewayIntegrationTest;
import io.switchboard.testing.TestGateway;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.test.StepVerifier;

@GatewayIntegrationTest
class StreamingRelayIT {

    private static final String STREAM_REQUEST =
            "{\"model\":\"openai/gpt-5-nano\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    @LocalServerPort
    int port;

    FakeUpstream upstream = FakeUpstreamInitializer.shared();

    @BeforeEach
    void resetUpstream() {
        upstream.reset();
    }

    private HttpClient client() {
        return HttpClient.create()
                .baseUrl("http://127.0.0.1:" + port)
                .headers(h -> h.set("Authorization", "Bearer " + TestGateway.clientKey)
                        .set("Content-Type", "application/json"));
    }

    private reactor.core.publisher.Flux<String> stream(String body, AtomicReference<HttpHeaders> headers) {
        return client().post()
                .uri("/v1/chat/completions")
                .send(reactor.netty.ByteBufFlux.fromString(Mono.just(body)))
                .response((response, content) -> {
                    if (headers != null) {
                        headers.set(response.responseHeaders());
                    }
                    return content.asString(StandardCharsets.UTF_8);
                });
    }

    @Test
    void eachEventReachesTheClientBeforeTheUpstreamSendsTheNext() {
        CompletableFuture<Void> clientHasFirst = new CompletableFuture<>();
        upstream.enqueue(
                sse(List.of(send(chunk("one")), await(clientHasFirst), send(chunk("two")), send(usageAndDone(3, 2)))));
        StringBuilder seen = new StringBuilder();
        StepVerifier.create(stream(STREAM_REQUEST, null).doOnNext(part -> {
                    seen.append(part);
                    if (seen.toString().contains("\"one\"")) {
                        clientHasFirst.complete(null);
                    }
                }))
                .thenConsumeWhile(part -> true)
                .expectComplete()
                .verify(Duration.ofSeconds(10));
        assertThat(clientHasFirst).isCompleted();
        assertThat(seen.toString()).contains("\"two\"").endsWith("data: [DONE]\n\n");
    }

    @Test
    void streamIsRelayedByteForByteWithCommentsAndMidStreamErrorsKept() {
        String upstreamBytes = ": OPENROUTER PROCESSING\n\n"
                + chunk("Hel")
                + ": OPENROUTER PROCESSING\r\n\r\n"
                + chunk("lo")
                + "data: {\"id\":\"gen-fake-1\",\"object\":\"chat.completion.chunk\",\"error\":{\"code\":502,"
                + "\"message\":\"Provider disconnected\"},\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},"
                + "\"finish_reason\":\"error\"}]}\n\n"
                + usageAndDone(5, 2);
        // Sent in uneven pieces so that events and lines straddle network chunks.
        List<FakeUpstream.Step> steps = new java.util.ArrayList<>();
        for (int i = 0; i < upstreamBytes.length(); i += 37) {
            steps.add(send(upstreamBytes.substring(i, Math.min(upstreamBytes.length(), i + 37))));
        }
        upstream.enqueue(sse(steps));
        AtomicReference<HttpHeaders> headers = new AtomicReference<>();
        String relayed = stream(STREAM_REQUEST, headers)
                .collect(StringBuilder::new, StringBuilder::append)
                .map(StringBuilder::toString)
                .block(Duration.ofSeconds(10));
        assertThat(relayed).isEqualTo(upstreamBytes);
        assertThat(headers.get().get("Content-Type")).startsWith("text/event-stream");
        assertThat(headers.get().get("Cache-Control")).isEqualTo("no-cache");
        assertThat(headers.get().get("X-Accel-Buffering")).isEqualTo("no");
        assertThat(headers.get().get("Content-Length")).isNull();
        assertThat(headers.get().get("Content-Encoding")).isNull();
        assertThat(headers.get().get("X-Request-Id")).isNotBlank();
    }

    @Test
    void silentUpstreamGetsHeartbeatCommentsBetweenEventsOnly() {
        upstream.enqueue(sse(List.of(
                send(chunk("a")),
                send("data: {\"partial\":"),
                pause(Duration.ofMillis(1000)),
                send("true}\n\n"),
                pause(Duration.ofMillis(1000)),
                send(usageAndDone(1, 1)))));
        String relayed = stream(STREAM_REQUEST, null)
                .collect(StringBuilder::new, StringBuilder::append)
                .map(StringBuilder::toString)
                .block(Duration.ofSeconds(10));
        // No comment inside the event that was cut in two, at least one in the silence after it.
        assertThat(relayed).contains("data: {\"partial\":true}\n\n");
        assertThat(relayed.substring(relayed.indexOf("true}\n\n"))).contains(": keep-alive\n\n");
        assertThat(relayed).endsWith("data: [DONE]\n\n");
    }

    @Test
    void noHeartbeatGoesInsideAnOversizedEventHeldBackByASlowClient() {
        // An event far over max-event-size (1 MB) is relayed in pieces. The client stops reading in
        // its middle, so its end waits in the gateway; the upstream is then silent for several
        // heartbeat periods (400 ms here). A comment must still only come between events.
        String big = "data: " + "x".repeat(12 * 1024 * 1024);
        upstream.enqueue(sse(List.of(
                send(chunk("a")),
                pause(Duration.ofMillis(1000)), // a silence: comments go out
                sendEach(Flux.range(0, 12).map(part -> twelfth(big, part))),
                send("\n\n"),
                pause(Duration.ofMillis(2000)),
                send(usageAndDone(1, 1)))));
        AtomicBoolean stalled = new AtomicBoolean();
        String relayed = stream(STREAM_REQUEST, null)
                .concatMap(
                        text -> text.contains("xxxx") && stalled.compareAndSet(false, true)
                                ? Mono.just(text).delayElement(Duration.ofMillis(3000))
                                : Mono.just(text),
                        1)
                .collect(StringBuilder::new, StringBuilder::append)
                .map(StringBuilder::toString)
                .block(Duration.ofSeconds(30));
        assertThat(stalled).isTrue();
        assertThat(relayed).contains(big + "\n\n").endsWith("data: [DONE]\n\n");
        int at = relayed.indexOf(": keep-alive\n\n");
        assertThat(at).as("a comment in the first silence").isPositive();
        while (at >= 0) {
            assertThat(relayed.substring(0, at))
                    .as("the bytes before a comment end an event")
                    .endsWith("\n\n");
            at = relayed.indexOf(": keep-alive\n\n", at + 1);
        }
    }

    /** Part {@code part} of twelve of {@code text}, as bytes; the last takes the rest. */
    private static byte[] twelfth(String text, int part) {
        int size = text.length() / 12;
        return text.substring(part * size, part == 11 ? text.length() : (part + 1) * size)
                .getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void upstreamSilentPastIdleTimeoutEndsTheStreamWithAnErrorEvent() {
        upstream.enqueue(sse(List.of(send(chunk("a")), pause(Duration.ofSeconds(30)))));
        List<String> parts = new CopyOnWriteArrayList<>();
        StepVerifier.create(stream(STREAM_REQUEST.replace("openai/gpt-5-nano", "strict/model"), null)
                        .doOnNext(parts::add))
                .thenConsumeWhile(part -> true)
                .expectError()
                .verify(Duration.ofSeconds(10));
        String relayed = String.join("", parts);
        assertThat(relayed).contains("\"a\"").contains("\"error\":{").contains("upstream_timeout");
        assertThat(relayed).doesNotContain(TestGateway.UPSTREAM_KEY);
    }
}
