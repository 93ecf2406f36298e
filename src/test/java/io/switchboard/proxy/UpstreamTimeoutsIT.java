package io.switchboard.proxy;

import static io.switchboard.testing.FakeUpstream.chunk;
import static io.switchboard.testing.FakeUpstream.pause;
import static io.switchboard.testing.FakeUpstream.send;
import static org.assertj.core.api.Assertions.assertThat;

import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.GatewayInstance;
import io.switchboard.testing.RawHttp;
import io.switchboard.testing.TestGateway;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * A provider whose {@code response-timeout} (3 s) is longer than its {@code idle-timeout} (1 s), as
 * for a slow reasoning model: the wait for the headers is bounded by the first, the silences inside
 * the answer by the second.
 */
class UpstreamTimeoutsIT {

    private static final String CHAT = "{\"model\":\"openai/gpt-5-nano\",\"messages\":[]}";

    @Test
    void headersMayTakeTheResponseTimeoutWhileSilencesInsideTheAnswerGetTheIdleTimeout() {
        String database = "timeouts_" + UUID.randomUUID().toString().replace("-", "");
        try (FakeUpstream upstream = FakeUpstream.start();
                GatewayInstance gateway = GatewayInstance.replica(
                        upstream.baseUrl(),
                        database,
                        "gateway.providers.openrouter.response-timeout=3s",
                        "gateway.providers.openrouter.idle-timeout=1s")) {
            // Headers after 1.8 s: past the idle limit, within the response limit.
            FakeUpstream.Reply answer = FakeUpstream.chatCompletion("late but fine", 3, 4);
            upstream.enqueue((request, response, received) ->
                    Mono.delay(Duration.ofMillis(1800)).then(Mono.from(answer.answer(request, response, received))));
            HttpResponse<String> slowHeaders = gateway.gateway().postJson("/v1/chat/completions", CHAT);
            assertThat(slowHeaders.statusCode()).as(slowHeaders.body()).isEqualTo(200);
            assertThat(slowHeaders.body()).contains("late but fine");

            // Headers never come: 504 at the response limit, not before.
            upstream.enqueue(FakeUpstream.neverAnswer());
            long start = System.nanoTime();
            HttpResponse<String> noHeaders = gateway.gateway().postJson("/v1/chat/completions", CHAT);
            Duration waited = Duration.ofNanos(System.nanoTime() - start);
            assertThat(noHeaders.statusCode()).isEqualTo(504);
            assertThat(waited).isBetween(Duration.ofMillis(2800), Duration.ofSeconds(10));

            // Inside a stream, 1.6 s of silence is past the idle limit: the stream ends in an error event.
            upstream.enqueue(FakeUpstream.sse(
                    Map.of(), List.of(send(chunk("first")), pause(Duration.ofMillis(1600)), send(chunk("too late")))));
            // Read raw: the stream is aborted after its error event, which an HTTP client reports as an error.
            String silent = RawHttp.post(
                    gateway.port(),
                    "/v1/chat/completions",
                    "{\"model\":\"openai/gpt-5-nano\",\"stream\":true,\"messages\":[]}",
                    "Authorization: Bearer " + TestGateway.clientKey);
            assertThat(silent).contains("first").contains("\"error\"").doesNotContain("too late");
        }
    }
}
