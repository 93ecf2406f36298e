package io.switchboard.proxy;

import static io.switchboard.proxy.ErrorStatusIT.assertOpenAiError;
import static io.switchboard.testing.FakeUpstream.await;
import static io.switchboard.testing.FakeUpstream.chunk;
import static io.switchboard.testing.FakeUpstream.endless;
import static io.switchboard.testing.FakeUpstream.mark;
import static io.switchboard.testing.FakeUpstream.pause;
import static io.switchboard.testing.FakeUpstream.resetConnection;
import static io.switchboard.testing.FakeUpstream.send;
import static io.switchboard.testing.FakeUpstream.sendEach;
import static io.switchboard.testing.FakeUpstream.sse;
import static io.switchboard.testing.FakeUpstream.usageAndDone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.switchboard.testing.AdminApi;
import io.switchboard.testing.FakeUpstream;
import io.switchboard.testing.FakeUpstreamInitializer;
import io.switchboard.testing.GatewayIntegrationTest;
import io.switchboard.testing.LedgerRows;
import io.switchboard.testing.RawHttp;
import io.switchboard.testing.TestGateway;
import io.switchboard.testing.UnansweredConnectPort;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

/**
 * The fault suite of issue 6: every way an upstream or a client can fail, one row each. Every case
 * asserts what the client sees (the documented status, or a stream that ends in a visible error),
 * then that the gateway is healthy afterwards ({@code /actuator/health} UP and a normal request on
 * the same key answered: its {@code max_concurrency: 1} slot was given back) and that the usage
 * ledger holds exactly one row for the request, with the status, outcome and tokens it should.
 * Netty's paranoid leak detector fails any case that leaks a buffer.
 */
@GatewayIntegrationTest
@ExtendWith(OutputCaptureExtension.class)
class UpstreamFaultSuiteIT {

    private static final int MB = 1024 * 1024;
    private static final Duration CLOSE_WITHIN = Duration.ofMillis(100);
    /** {@code gateway.streaming.send-timeout} of the tests' gateway ({@link GatewayIntegrationTest}). */
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(12);

    @LocalServerPort
    int port;

    private final FakeUpstream upstream = FakeUpstreamInitializer.shared();
    private TestGateway gateway;
    private CapturedOutput output;
    /** A key with {@code max_concurrency: 1}: a slot a fault failed to give back refuses the next request. */
    private static String oneAtATimeKey;

    @BeforeEach
    void setUp(CapturedOutput output) {
        this.output = output;
        upstream.reset();
        gateway = new TestGateway(port);
        if (oneAtATimeKey == null) {
            oneAtATimeKey = new AdminApi(fresh(), TestGateway.ADMIN_KEY)
                    .createKey("{\"name\":\"fault-suite\",\"max_concurrency\":1}")
                    .get("key")
                    .asString();
        }
    }

    /** One fault: what provokes it (asserting what the client sees) and the ledger row it must leave. */
    record Fault(String name, String clientSees, Provocation provoke, Row row) {
        @Override
        public String toString() {
            return name + " -> " + clientSees;
        }
    }

    @FunctionalInterface
    interface Provocation {
        void run(UpstreamFaultSuiteIT suite, String requestId) throws Exception;
    }

    /**
     * The ledger row a fault leaves. {@code estimated}: no usage report reached the gateway, so the
     * prompt is its estimate (positive) and the completion is the content events relayed, or any
     * count when {@code completion} is negative.
     */
    record Row(int status, String outcome, long prompt, long completion, boolean estimated) {
        static Row reported(int status, String outcome, long prompt, long completion) {
            return new Row(status, outcome, prompt, completion, false);
        }

        static Row none(int status, String outcome) {
            return new Row(status, outcome, 0, 0, false);
        }

        static Row estimated(int status, String outcome, long completion) {
            return new Row(status, outcome, -1, completion, true);
        }
    }

    static Stream<Fault> faults() {
        List<Fault> faults = new ArrayList<>(List.of(
                new Fault(
                        "upstream refuses connections",
                        "502 upstream_unreachable",
                        UpstreamFaultSuiteIT::upstreamRefuses,
                        Row.none(502, "upstream_unreachable")),
                new Fault(
                        "upstream's connect times out",
                        "504 upstream_timeout after connect-timeout",
                        UpstreamFaultSuiteIT::upstreamConnectTimesOut,
                        Row.none(504, "upstream_timeout")),
                new Fault(
                        "upstream accepts but never answers",
                        "504 upstream_timeout after response-timeout",
                        UpstreamFaultSuiteIT::upstreamNeverAnswers,
                        Row.none(504, "upstream_timeout")),
                new Fault(
                        "upstream sends headers then goes silent",
                        "error event after idle-timeout, aborted stream",
                        UpstreamFaultSuiteIT::upstreamSilentAfterHeaders,
                        Row.estimated(200, "upstream_failed_midway", 0)),
                new Fault(
                        "upstream resets mid-stream",
                        "error event, aborted stream",
                        UpstreamFaultSuiteIT::upstreamResetsMidStream,
                        Row.estimated(200, "upstream_failed_midway", 1)),
                new Fault(
                        "SSE lines with no data:",
                        "relayed unchanged, stream completes",
                        UpstreamFaultSuiteIT::linesWithoutData,
                        Row.reported(200, "success", 3, 4)),
                new Fault(
                        "invalid JSON inside data: chunks",
                        "relayed unchanged, stream completes",
                        UpstreamFaultSuiteIT::invalidJsonInData,
                        Row.reported(200, "success", 5, 6)),
                new Fault(
                        "a 10 MB single SSE event",
                        "relayed unchanged and in pieces, stream completes",
                        UpstreamFaultSuiteIT::tenMegabyteEvent,
                        Row.reported(200, "success", 7, 8)),
                new Fault(
                        "a 50 MB non-streaming JSON body",
                        "streamed through unchanged, never held whole",
                        UpstreamFaultSuiteIT::fiftyMegabyteBody,
                        Row.reported(200, "success", 9, 4096)),
                new Fault(
                        "upstream error page (HTML)",
                        "502 OpenAI-shaped, page not echoed",
                        UpstreamFaultSuiteIT::upstreamHtmlErrorPage,
                        Row.none(502, "upstream_error")),
                new Fault(
                        "upstream error whose body is cut by a reset",
                        "500 OpenAI-shaped, the part read released",
                        UpstreamFaultSuiteIT::upstreamErrorCutShort,
                        Row.none(500, "upstream_error")),
                new Fault(
                        "upstream error with an empty body and Retry-After",
                        "503 OpenAI-shaped, Retry-After passed",
                        UpstreamFaultSuiteIT::upstreamEmptyError,
                        Row.none(503, "upstream_error")),
                new Fault(
                        "client disconnects before headers",
                        "upstream connection closed within 100 ms, slot released",
                        UpstreamFaultSuiteIT::clientLeavesBeforeHeaders,
                        Row.estimated(0, "client_closed", 0)),
                new Fault(
                        "client disconnects mid-stream",
                        "upstream connection closed within 100 ms, slot released",
                        UpstreamFaultSuiteIT::clientLeavesMidStream,
                        Row.estimated(200, "client_closed", -1)),
                new Fault(
                        "client disconnects while the upstream's error body is still coming",
                        "upstream connection closed within 100 ms, slot released, the row written",
                        UpstreamFaultSuiteIT::clientLeavesDuringErrorBody,
                        Row.estimated(500, "client_closed", 0)),
                new Fault(
                        "client disconnects while the upstream is still connecting",
                        "connect abandoned within 100 ms, slot released before the connect timeout",
                        UpstreamFaultSuiteIT::clientLeavesWhileConnecting,
                        Row.estimated(0, "client_closed", 0)),
                new Fault(
                        "slow client reading 1 byte/s from a fast stream",
                        "upstream stalls (bounded memory), other clients unaffected",
                        UpstreamFaultSuiteIT::slowClient,
                        Row.estimated(200, "client_closed", 0)),
                new Fault(
                        "client stops reading a fast stream for good, connection kept open",
                        "disconnected after send-timeout, not before: upstream closed, slot given back",
                        UpstreamFaultSuiteIT::clientStopsReading,
                        Row.estimated(200, "client_closed", -1)),
                new Fault(
                        "client stops reading for three idle-timeouts, then reads on",
                        "the whole stream, clean end: the upstream was held back, not silent",
                        UpstreamFaultSuiteIT::clientPausesPastIdleTimeout,
                        Row.reported(200, "success", 13, 14)),
                new Fault(
                        "upstream closes while the client is not reading",
                        "what was read, then the error event: not dropped for want of demand",
                        UpstreamFaultSuiteIT::upstreamClosesWhileClientNotReading,
                        Row.estimated(200, "upstream_failed_midway", -1)),
                new Fault(
                        "upstream resets inside an event larger than max-event-size",
                        "the part relayed, then the error event as an event of its own",
                        UpstreamFaultSuiteIT::resetInsideOversizedEvent,
                        Row.estimated(200, "upstream_failed_midway", 0))));
        for (boolean chunked : new boolean[] {false, true}) {
            faults.add(new Fault(
                    "upstream answers 200 with an empty body" + (chunked ? ", chunked" : ", Content-Length 0"),
                    "502 OpenAI-shaped: no answer is not an answer",
                    (suite, id) -> suite.upstreamEmptyOk(id, chunked),
                    Row.none(502, "upstream_unreachable")));
        }
        faults.add(new Fault(
                "upstream stream of only the usage event the client did not ask for, no [DONE]",
                "a clean end with nothing relayed: the upstream did answer",
                UpstreamFaultSuiteIT::upstreamOnlyUnaskedUsage,
                Row.reported(200, "success", 13, 14)));
        faults.add(new Fault(
                "upstream answers a stream that ends without a byte",
                "the error event and an aborted stream, not an empty clean end",
                UpstreamFaultSuiteIT::upstreamEmptyStream,
                Row.estimated(200, "upstream_failed_midway", 0)));
        for (int status : new int[] {429, 500, 502, 503}) {
            for (boolean retryAfter : new boolean[] {true, false}) {
                faults.add(new Fault(
                        "upstream answers " + status + (retryAfter ? " with" : " without") + " Retry-After",
                        status + ", its body" + (retryAfter ? " and Retry-After" : "") + " passed through",
                        (suite, id) -> suite.upstreamErrorStatus(id, status, retryAfter),
                        Row.none(status, "upstream_error")));
            }
        }
        return faults.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("faults")
    @Timeout(value = 45, unit = TimeUnit.SECONDS)
    void everyFaultEndsVisiblyLeavesTheGatewayHealthyAndWritesOneLedgerRow(Fault fault) throws Exception {
        String requestId = "fault-" + System.nanoTime();
        fault.provoke().run(this, requestId);
        assertGatewayHealthy();
        assertOneLedgerRow(requestId, fault.row());
        // A fault of the upstream or the client is the gateway's daily work, not an error of its own.
        assertThat(output.getOut()).as("the gateway's log").doesNotContain(" ERROR ");
    }

    // ---- upstream faults

    void upstreamRefuses(String id) throws IOException {
        Answer answer = call(id, chat("dead/model", false));
        assertThat(answer.status()).isEqualTo(502);
        assertOpenAiError(answer.text(), "upstream_unreachable");
        assertThat(answer.text()).doesNotContain("127.0.0.1").doesNotContain(":9");
    }

    void upstreamConnectTimesOut(String id) throws IOException {
        long start = System.nanoTime();
        Answer answer = call(id, chat("slowconnect/model", false));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(450));
        assertThat(answer.status()).isEqualTo(504);
        assertOpenAiError(answer.text(), "upstream_timeout");
        assertThat(answer.text()).doesNotContain("127.0.0.1");
    }

    void upstreamNeverAnswers(String id) throws Exception {
        upstream.enqueue(FakeUpstream.neverAnswer());
        long start = System.nanoTime();
        Answer answer = call(id, chat("strict/model", false));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(650));
        assertThat(answer.status()).isEqualTo(504);
        assertOpenAiError(answer.text(), "upstream_timeout");
        // The gateway gave up on the connection too: it does not linger on the upstream.
        upstream.takeRequest().connection().closed().get(2, TimeUnit.SECONDS);
    }

    void upstreamSilentAfterHeaders(String id) throws IOException {
        upstream.enqueue(FakeUpstream.silentAfterHeaders());
        long start = System.nanoTime();
        Answer answer = call(id, chat("strict/model", true));
        assertThat(answer.status()).isEqualTo(200);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(650));
        assertEndsInErrorEvent(answer, "upstream_timeout");
    }

    void upstreamResetsMidStream(String id) throws IOException {
        upstream.enqueue(sse(List.of(send(chunk("a")), pause(Duration.ofMillis(100)), resetConnection())));
        Answer answer = call(id, chat("openai/gpt-5-nano", true));
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.text()).startsWith(chunk("a"));
        assertEndsInErrorEvent(answer, "upstream_error");
    }

    void linesWithoutData(String id) throws IOException {
        relayedUnchanged(
                id,
                "event: ping\n\n" + "id: 41\nretry: 3000\n\n" + "just some words\r\n\r\n" + ": a comment\n\n"
                        + chunk("x") + usageAndDone(3, 4));
    }

    void invalidJsonInData(String id) throws IOException {
        relayedUnchanged(
                id,
                "data: {\"choices\":[{\"delta\":{\"content\":\"x\"\n\n" + "data: not json at all\n\n"
                        + "data: {\"a\":1}}}]\n\n" + chunk("y") + usageAndDone(5, 6));
    }

    private void relayedUnchanged(String id, String upstreamBytes) throws IOException {
        List<FakeUpstream.Step> steps = new ArrayList<>();
        // Uneven pieces, so that lines and events straddle network chunks.
        for (int i = 0; i < upstreamBytes.length(); i += 29) {
            steps.add(send(upstreamBytes.substring(i, Math.min(upstreamBytes.length(), i + 29))));
        }
        upstream.enqueue(sse(steps));
        Answer answer = call(id, chat("openai/gpt-5-nano", true));
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.cut()).as("a clean end").isNull();
        assertThat(answer.text()).isEqualTo(upstreamBytes);
    }

    /**
     * One event of 10 MB (ten times {@code gateway.streaming.max-event-size}): the upstream sends
     * 2 MB of it and then waits for the client to have bytes, so a gateway that gathered the
     * event before relaying it would never get the rest.
     */
    void tenMegabyteEvent(String id) throws IOException {
        PatternBody event = new PatternBody(
                "data: {\"id\":\"gen-huge\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                        + "\"delta\":{\"content\":\"",
                160,
                "\"},\"finish_reason\":null}]}\n\n" + usageAndDone(7, 8));
        CompletableFuture<Void> clientHasBytes = new CompletableFuture<>();
        CompletableFuture<Void> eventSent = new CompletableFuture<>();
        upstream.enqueue(sse(List.of(
                send(event.head()),
                sendEach(event.pieces(0, 32)),
                await(clientHasBytes),
                sendEach(event.pieces(32, 160)),
                mark(eventSent),
                send(event.tail()))));
        boolean[] eventDoneAtFirstBytes = {true};
        Answer answer = call(id, chat("openai/gpt-5-nano", true), received -> {
            if (!clientHasBytes.isDone()) {
                eventDoneAtFirstBytes[0] = eventSent.isDone();
                clientHasBytes.complete(null);
            }
        });
        assertThat(answer.status()).isEqualTo(200);
        assertThat(eventDoneAtFirstBytes[0])
                .as("the upstream had sent the whole event before the client got a byte")
                .isFalse();
        assertThat(answer.cut()).as("a clean end").isNull();
        assertThat(answer.length()).isEqualTo(event.length());
        assertThat(answer.sha256()).isEqualTo(event.sha256());
    }

    /**
     * The upstream resets after 2 MB of an event twice {@code max-event-size}: the first part has
     * gone to the client in pieces, so the error event must first end that line and that event, or
     * it would be read as more of the broken event's data.
     */
    void resetInsideOversizedEvent(String id) throws Exception {
        PatternBody event = new PatternBody("data: {\"choices\":[{\"delta\":{\"content\":\"", 32, "");
        upstream.enqueue(sse(List.of(
                send(event.head()), sendEach(event.pieces(0, 32)), pause(Duration.ofMillis(200)), resetConnection())));
        // Read raw, chunk framing and all: the error event and the line ends before it are one
        // chunk, and nothing on the client's side stands between the bytes and the test.
        try (Socket socket =
                RawHttp.open(port, 0, "/v1/chat/completions", chat("openai/gpt-5-nano", true), headers(id))) {
            InputStream in = socket.getInputStream();
            assertThat(RawHttp.status(RawHttp.readHead(in))).isEqualTo(200);
            String rest = readUntilCut(in, 0);
            assertThat((long) rest.length()).as("bytes after the head").isGreaterThan(event.length());
            String end = rest.substring(rest.length() - 2000);
            int error = end.lastIndexOf("data: {\"error\":{");
            assertThat(error).as("an error event at the end of %s", end).isPositive();
            assertThat(end.substring(0, error))
                    .as("what precedes the error event, in its chunk")
                    .endsWith("\n\n");
            assertThat(end.substring(error))
                    .contains("\"code\":\"upstream_error\"")
                    .doesNotEndWith("0\r\n\r\n");
        }
    }

    /**
     * A 50 MB chat completion: the client gets bytes while the upstream is still sending, then
     * stops reading; the upstream must stall well short of 50 MB (the gateway holds no whole body),
     * and once the client reads on, every byte arrives unchanged.
     */
    void fiftyMegabyteBody(String id) throws Exception {
        PatternBody body = new PatternBody(
                "{\"id\":\"gen-big\",\"object\":\"chat.completion\",\"model\":\"openai/gpt-5-nano\",\"choices\":"
                        + "[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"",
                800,
                "\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4096,"
                        + "\"total_tokens\":4105}}");
        AtomicLong produced = new AtomicLong();
        CompletableFuture<Void> clientHasBytes = new CompletableFuture<>();
        upstream.enqueue(FakeUpstream.streamed(
                200,
                "application/json",
                Map.of("Content-Length", Long.toString(body.length())),
                List.of(
                        send(body.head()),
                        sendEach(body.pieces(0, 16)),
                        await(clientHasBytes),
                        sendEach(body.pieces(16, 800).doOnNext(piece -> produced.addAndGet(piece.length))),
                        send(body.tail()))));
        long heapBefore = heapUsedAfterGc();
        try (Socket socket =
                RawHttp.open(port, 64 * 1024, "/v1/chat/completions", chat("openai/gpt-5-nano", false), headers(id))) {
            InputStream in = socket.getInputStream();
            String head = RawHttp.readHead(in);
            assertThat(RawHttp.status(head)).isEqualTo(200);
            assertThat(head).containsIgnoringCase("Content-Length: " + body.length());
            MessageDigest sha = sha256();
            byte[] buffer = new byte[64 * 1024];
            long total = 0;
            int n = in.read(buffer);
            assertThat(n).isPositive();
            sha.update(buffer, 0, n);
            total += n;
            clientHasBytes.complete(null);
            long stalled = stalledAt(produced);
            assertThat(stalled)
                    .as("bytes the upstream handed over while the client read none")
                    .isLessThan(30L * MB);
            // The usage scanner reads the body as it passes: it must not gather the answer's
            // content (which Jackson's parser would, for a string, whole) to find the usage after it.
            assertThat(heldSince(heapBefore, 5L * MB))
                    .as("heap the gateway holds with %d MB of the answer passed through", stalled / MB)
                    .isLessThan(5L * MB);
            while (total < body.length() && (n = in.read(buffer)) >= 0) {
                sha.update(buffer, 0, n);
                total += n;
            }
            assertThat(total).isEqualTo(body.length());
            assertThat(sha.digest()).isEqualTo(body.sha256());
        }
    }

    void upstreamErrorStatus(String id, int status, boolean retryAfter) throws IOException {
        String error = "{\"error\":{\"message\":\"upstream says " + status
                + "\",\"type\":\"upstream_error\",\"param\":null,\"code\":\"code_" + status + "\"}}";
        upstream.enqueue(FakeUpstream.json(status, error, retryAfter ? Map.of("Retry-After", "7") : Map.of()));
        Answer answer = call(id, chat("openai/gpt-5-nano", false));
        assertThat(answer.status()).isEqualTo(status);
        assertThat(answer.text()).isEqualTo(error);
        assertThat(answer.headers().firstValue("Content-Type"))
                .hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
        assertThat(answer.headers().firstValue("Retry-After"))
                .isEqualTo(retryAfter ? java.util.Optional.of("7") : java.util.Optional.empty());
    }

    void upstreamEmptyOk(String id, boolean chunked) throws IOException {
        upstream.enqueue(
                chunked
                        ? FakeUpstream.streamed(200, "application/json", Map.of(), List.of())
                        : FakeUpstream.json(200, "", Map.of()));
        Answer answer = call(id, chat("openai/gpt-5-nano", false));
        assertThat(answer.status()).isEqualTo(502);
        assertOpenAiError(answer.text(), "upstream_error");
    }

    void upstreamOnlyUnaskedUsage(String id) throws IOException {
        String usage = FakeUpstream.usageAndDone(13, 14);
        upstream.enqueue(sse(List.of(send(usage.substring(0, usage.indexOf("data: [DONE]"))))));
        Answer answer = call(id, chat("strict/model", true));
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.cut()).as("a clean end").isNull();
        assertThat(answer.text()).doesNotContain("\"error\"").doesNotContain("usage");
    }

    void upstreamEmptyStream(String id) throws IOException {
        upstream.enqueue(sse(List.of()));
        Answer answer = call(id, chat("openai/gpt-5-nano", true));
        assertThat(answer.status()).isEqualTo(200);
        assertEndsInErrorEvent(answer, "upstream_error");
    }

    void upstreamHtmlErrorPage(String id) throws IOException {
        upstream.enqueue(FakeUpstream.raw(
                502, "text/html", "<html><body>nginx bad gateway at 10.0.0.7</body></html>", Map.of()));
        Answer answer = call(id, chat("openai/gpt-5-nano", false));
        assertThat(answer.status()).isEqualTo(502);
        assertOpenAiError(answer.text(), "upstream_error");
        assertThat(answer.text()).doesNotContain("nginx").doesNotContain("10.0.0.7");
    }

    void upstreamErrorCutShort(String id) throws IOException {
        upstream.enqueue(FakeUpstream.streamed(
                500,
                "application/json",
                Map.of(),
                List.of(
                        send("{\"error\":{\"message\":\"the upstream wrote half"),
                        pause(Duration.ofMillis(100)),
                        resetConnection())));
        Answer answer = call(id, chat("openai/gpt-5-nano", false));
        assertThat(answer.status()).isEqualTo(500);
        assertOpenAiError(answer.text(), "upstream_error");
        assertThat(answer.text()).doesNotContain("half");
    }

    void upstreamEmptyError(String id) throws IOException {
        upstream.enqueue(FakeUpstream.raw(503, null, "", Map.of("Retry-After", "3")));
        Answer answer = call(id, chat("openai/gpt-5-nano", false));
        assertThat(answer.status()).isEqualTo(503);
        assertOpenAiError(answer.text(), "upstream_error");
        assertThat(answer.headers().firstValue("Retry-After")).hasValue("3");
    }

    // ---- client faults

    void clientLeavesBeforeHeaders(String id) throws Exception {
        upstream.enqueue(FakeUpstream.neverAnswer());
        Socket socket = RawHttp.open(port, 0, "/v1/chat/completions", chat("openai/gpt-5-nano", false), headers(id));
        FakeUpstream.Received received = upstream.takeRequest();
        leaveAndAssertUpstreamClosed(socket, received);
    }

    void clientLeavesMidStream(String id) throws Exception {
        upstream.enqueue(sse(List.of(endless(Duration.ofMillis(50), i -> chunk("tick" + i)))));
        Socket socket = RawHttp.open(port, 0, "/v1/chat/completions", chat("openai/gpt-5-nano", true), headers(id));
        InputStream in = socket.getInputStream();
        assertThat(RawHttp.status(RawHttp.readHead(in))).isEqualTo(200);
        assertThat(new String(in.readNBytes(16), StandardCharsets.US_ASCII)).contains("data:");
        leaveAndAssertUpstreamClosed(socket, upstream.takeRequest());
    }

    /** The gateway reads an upstream error body whole before it answers: the client leaves meanwhile. */
    void clientLeavesDuringErrorBody(String id) throws Exception {
        CompletableFuture<Void> bodyStarted = new CompletableFuture<>();
        upstream.enqueue(FakeUpstream.streamed(
                500,
                "application/json",
                Map.of(),
                List.of(send("{\"error\":{\"message\":\"coming"), mark(bodyStarted), pause(Duration.ofSeconds(20)))));
        Socket socket = RawHttp.open(port, 0, "/v1/chat/completions", chat("openai/gpt-5-nano", false), headers(id));
        FakeUpstream.Received received = upstream.takeRequest();
        bodyStarted.get(5, TimeUnit.SECONDS);
        Thread.sleep(200); // the gateway has the status and part of the body, and waits for the rest
        leaveAndAssertUpstreamClosed(socket, received);
    }

    /**
     * The provider {@code connecting} points at a port whose connects hang for its 10 s connect
     * timeout. The client leaves while the gateway's connect is pending: the connect is abandoned
     * at once, and so is the key's slot, not after the timeout.
     */
    void clientLeavesWhileConnecting(String id) throws Exception {
        UnansweredConnectPort target = FakeUpstreamInitializer.connecting();
        Set<Integer> before = target.connectsInProgress();
        Socket socket = RawHttp.open(port, 0, "/v1/chat/completions", chat("connecting/model", false), headers(id));
        Set<Integer> pending = new java.util.HashSet<>();
        await().atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(10))
                .until(() -> {
                    pending.addAll(target.connectsInProgress());
                    pending.removeAll(before);
                    return !pending.isEmpty();
                });
        long leftAt = System.nanoTime();
        socket.close();
        await().atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> target.connectsInProgress().stream().noneMatch(pending::contains));
        assertThat(Duration.ofNanos(System.nanoTime() - leftAt))
                .as("from the client's close to the gateway abandoning its connect")
                .isLessThan(CLOSE_WITHIN);
        assertThat(admittedAfter(leftAt))
                .as("from the client's close to the slot's release")
                .isLessThan(Duration.ofSeconds(1));
    }

    /**
     * A client that reads one byte a second from an endless fast stream: the gateway's buffers fill,
     * it stops reading the upstream, and the upstream stalls; meanwhile another client is served as
     * fast as ever.
     */
    void slowClient(String id) throws Exception {
        AtomicLong produced = new AtomicLong();
        String event = "data: {\"pad\":\"" + "x".repeat(16 * 1024) + "\"}\n\n";
        // 64 MB of events a second if nothing pushed back.
        upstream.enqueue(sse(List.of(endless(Duration.ZERO, i -> {
            produced.addAndGet(event.length());
            return event;
        }))));
        try (Socket socket =
                RawHttp.open(port, 4096, "/v1/chat/completions", chat("openai/gpt-5-nano", true), headers(id))) {
            InputStream in = socket.getInputStream();
            assertThat(RawHttp.status(RawHttp.readHead(in))).isEqualTo(200);
            FakeUpstream.Received received = upstream.takeRequest();
            long stalled = stalledAt(produced);
            assertThat(stalled).as("bytes the upstream could hand over").isLessThan(32L * MB);
            for (int second = 0; second < 3; second++) {
                assertThat(in.read()).isNotNegative();
                long start = System.nanoTime();
                HttpResponse<String> other = fresh().send(HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                        .header("Authorization", "Bearer " + TestGateway.CLIENT_KEY)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(chat("openai/gpt-5-nano", false)))
                        .build());
                assertThat(other.statusCode()).isEqualTo(200);
                assertThat(Duration.ofNanos(System.nanoTime() - start))
                        .as("another client's request while the slow one holds its stream")
                        .isLessThan(Duration.ofSeconds(3));
                Thread.sleep(1_000); // the slow client's pace: one byte a second
            }
            assertThat(produced.get() - stalled)
                    .as("more handed over while reading 1 byte/s")
                    .isLessThan(MB);
            leaveAndAssertUpstreamClosed(socket, received);
        }
    }

    /**
     * A client that keeps its connection but never reads again: back-pressure holds the relay and the
     * upstream, and only {@code gateway.streaming.send-timeout} (12 s in these tests) lets them go.
     */
    void clientStopsReading(String id) throws Exception {
        String event = "data: {\"pad\":\"" + "x".repeat(16 * 1024) + "\"}\n\n";
        upstream.enqueue(sse(List.of(endless(Duration.ZERO, i -> event))));
        // Taken before the request: the gateway's watch may start before this thread reads the head.
        long stoppedAt = System.nanoTime();
        try (Socket socket =
                RawHttp.open(port, 4096, "/v1/chat/completions", chat("openai/gpt-5-nano", true), headers(id))) {
            InputStream in = socket.getInputStream();
            assertThat(RawHttp.status(RawHttp.readHead(in))).isEqualTo(200);
            FakeUpstream.Received received = upstream.takeRequest();
            long closedAt = received.connection().closed().get(30, TimeUnit.SECONDS);
            assertThat(Duration.ofNanos(closedAt - stoppedAt))
                    .as("from the client's request to the upstream's connection closed")
                    .isBetween(
                            SEND_TIMEOUT,
                            SEND_TIMEOUT.multipliedBy(9).dividedBy(8).plusSeconds(3));
            socket.setSoTimeout(10_000);
            String rest;
            try {
                rest = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            } catch (SocketException reset) {
                rest = "";
            }
            assertThat(rest).as("what the client finds once it reads again").doesNotEndWith("0\r\n\r\n");
        }
    }

    /**
     * A client that stops reading while a fast stream still comes, for three times the provider's
     * {@code idle-timeout}: the gateway stops reading the upstream (back-pressure), and that is not
     * the upstream being silent, so the stream goes on once the client reads again.
     */
    void clientPausesPastIdleTimeout(String id) throws Exception {
        byte[] event = ("data: {\"pad\":\"" + "x".repeat(16 * 1024) + "\"}\n\n").getBytes(StandardCharsets.UTF_8);
        CompletableFuture<Void> allSent = new CompletableFuture<>();
        upstream.enqueue(
                sse(List.of(sendEach(Flux.range(0, 1024).map(i -> event)), mark(allSent), send(usageAndDone(13, 14)))));
        String[] headers = Stream.concat(Stream.of(headers(id)), Stream.of("Connection: close"))
                .toArray(String[]::new);
        try (Socket socket = RawHttp.open(port, 4096, "/v1/chat/completions", chat("strict/model", true), headers)) {
            InputStream in = socket.getInputStream();
            assertThat(RawHttp.status(RawHttp.readHead(in))).isEqualTo(200);
            Thread.sleep(2_100); // three idle-timeouts (700 ms) of the strict provider without a read
            assertThat(allSent).as("the upstream held back by the client").isNotDone();
            String rest = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            assertThat(rest)
                    .contains("data: [DONE]")
                    .doesNotContain("\"error\"")
                    .endsWith("0\r\n\r\n");
        }
    }

    /**
     * The upstream closes its connection in the middle of a fast stream while the client reads
     * nothing: the error event the gateway ends the stream with waits for the client like the
     * events before it (it was dropped when the client had asked for nothing at that moment).
     */
    void upstreamClosesWhileClientNotReading(String id) throws Exception {
        byte[] event = ("data: {\"pad\":\"" + "x".repeat(16 * 1024) + "\"}\n\n").getBytes(StandardCharsets.UTF_8);
        CompletableFuture<Void> closed = new CompletableFuture<>();
        upstream.enqueue(sse(List.of(
                response -> Mono.<ByteBuf>empty()
                        .doOnSubscribe(s -> response.withConnection(c -> c.channel()
                                .eventLoop()
                                .schedule(
                                        () -> c.channel().close().addListener(f -> closed.complete(null)),
                                        500,
                                        TimeUnit.MILLISECONDS))),
                sendEach(Flux.range(0, 1024).map(i -> event)),
                send(usageAndDone(13, 14)))));
        try (Socket socket =
                RawHttp.open(port, 4096, "/v1/chat/completions", chat("strict/model", true), headers(id))) {
            InputStream in = socket.getInputStream();
            assertThat(RawHttp.status(RawHttp.readHead(in))).isEqualTo(200);
            closed.get(5, TimeUnit.SECONDS);
            Thread.sleep(500); // the gateway meets the close while the client still reads nothing
            String rest = readUntilCut(in, 1);
            assertThat(rest).doesNotContain("[DONE]").doesNotEndWith("0\r\n\r\n");
            assertThat(rest.substring(rest.lastIndexOf("data: ")))
                    .startsWith("data: {\"error\":{")
                    .contains("\"code\":\"upstream_error\"");
        }
    }

    /**
     * Everything until the gateway closes the connection, cleanly or with a reset, pausing
     * {@code pauseMillis} after each read (a slow reader keeps the gateway's send buffers full).
     */
    private static String readUntilCut(InputStream in, long pauseMillis) throws InterruptedException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                all.write(buffer, 0, n);
                Thread.sleep(pauseMillis);
            }
        } catch (IOException reset) {
            // an aborted answer: what came before it is the answer
        }
        return all.toString(StandardCharsets.ISO_8859_1);
    }

    private void leaveAndAssertUpstreamClosed(Socket socket, FakeUpstream.Received received) throws Exception {
        long leftAt = System.nanoTime();
        socket.close();
        long closedAt = received.connection().closed().get(5, TimeUnit.SECONDS);
        assertThat(Duration.ofNanos(closedAt - leftAt))
                .as("from the client's close to the upstream seeing its connection closed")
                .isLessThan(CLOSE_WITHIN);
        assertThat(admittedAfter(leftAt))
                .as("from the client's close to the slot's release")
                .isLessThan(Duration.ofSeconds(1));
    }

    /**
     * A client of its own for each call, so no call follows another on a kept-alive connection: with
     * Reactor Netty 1.3.6 a request that arrives before the previous one's operations terminated is
     * sometimes never read (reactor/reactor-netty#4361, fixed after 1.3.7; also seen by
     * KeyAuthenticationIT). That stall is not one of the faults under test.
     */
    private TestGateway fresh() {
        return new TestGateway(port);
    }

    // ---- what every case ends with

    private void assertGatewayHealthy() {
        HttpResponse<String> health = fresh().send(HttpRequest.newBuilder(gateway.uri("/actuator/health"))
                .GET()
                .build());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"status\":\"UP\"");
        admittedAfter(System.nanoTime());
    }

    /**
     * Sends normal requests on the one-slot key until one is admitted (a 429 is the slot still
     * held) and answered: how long that took from {@code since}. Bounded at 5 s.
     */
    private Duration admittedAfter(long since) {
        HttpResponse<String> response;
        do {
            response = fresh().send(HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                    .header("Authorization", "Bearer " + oneAtATimeKey)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(chat("openai/gpt-5-nano", false)))
                    .build());
        } while (response.statusCode() == 429 && System.nanoTime() - since < TimeUnit.SECONDS.toNanos(5));
        Duration took = Duration.ofNanos(System.nanoTime() - since);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(response.body()).contains("fake answer");
        return took;
    }

    private void assertOneLedgerRow(String requestId, Row expected) {
        List<JsonNode> rows = new ArrayList<>();
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    rows.clear();
                    rows.addAll(ledgerRows(requestId));
                    return !rows.isEmpty();
                });
        // A duplicate written after the first row must fail too: read again a few flushes later.
        rows.clear();
        rows.addAll(LedgerRows.allAfterAWhile(fresh(), TestGateway.ADMIN_KEY).getOrDefault(requestId, List.of()));
        assertThat(rows).as("ledger rows of request %s", requestId).hasSize(1);
        JsonNode row = rows.get(0);
        assertThat(row.get("status").asInt()).as("status in %s", row).isEqualTo(expected.status());
        assertThat(row.get("outcome").asString()).as("outcome in %s", row).isEqualTo(expected.outcome());
        assertThat(row.get("estimated").asBoolean()).as("estimated in %s", row).isEqualTo(expected.estimated());
        long prompt = row.get("prompt_tokens").asLong();
        long completion = row.get("completion_tokens").asLong();
        if (expected.estimated()) {
            assertThat(prompt).as("estimated prompt tokens in %s", row).isPositive();
        } else {
            assertThat(prompt).as("prompt tokens in %s", row).isEqualTo(expected.prompt());
        }
        if (expected.completion() >= 0) {
            assertThat(completion).as("completion tokens in %s", row).isEqualTo(expected.completion());
        }
        assertThat(row.get("total_tokens").asLong()).isGreaterThanOrEqualTo(prompt + completion);
    }

    private List<JsonNode> ledgerRows(String requestId) {
        return LedgerRows.of(fresh(), TestGateway.ADMIN_KEY, requestId);
    }

    // ---- the client side

    /** What a client got: status, headers, the first MB as text, and length and digest of all. */
    record Answer(
            int status,
            HttpHeaders headers,
            String text,
            long length,
            byte[] sha256,
            @Nullable IOException cut,
            byte[] tail) {
        /** The last 64 KB as text. */
        String last() {
            return new String(tail, StandardCharsets.ISO_8859_1);
        }
    }

    private Answer call(String requestId, String body) throws IOException {
        return call(requestId, body, received -> {});
    }

    /** Sends a request with the one-slot key and reads the whole answer, telling {@code onBytes} each time. */
    private Answer call(String requestId, String body, LongConsumer onBytes) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(gateway.uri("/v1/chat/completions"))
                .timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        String[] headers = headers(requestId);
        for (String line : headers) {
            int colon = line.indexOf(':');
            request.header(line.substring(0, colon), line.substring(colon + 1).strip());
        }
        HttpResponse<InputStream> response;
        try {
            response = fresh().http().send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        assertThat(response.headers().firstValue("X-Request-Id")).hasValue(requestId);
        MessageDigest sha = sha256();
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        byte[] tail = new byte[0];
        long total = 0;
        IOException cut = null;
        try (InputStream in = response.body()) {
            byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                sha.update(buffer, 0, n);
                if (kept.size() < MB) {
                    kept.write(buffer, 0, n);
                }
                tail = lastBytes(tail, buffer, n, 64 * 1024);
                total += n;
                onBytes.accept(total);
            }
        } catch (IOException e) {
            cut = e;
        }
        return new Answer(
                response.statusCode(),
                response.headers(),
                kept.toString(StandardCharsets.UTF_8),
                total,
                sha.digest(),
                cut,
                tail);
    }

    /** The last {@code keep} bytes of {@code tail} followed by {@code n} bytes of {@code more}. */
    private static byte[] lastBytes(byte[] tail, byte[] more, int n, int keep) {
        int length = Math.min(keep, tail.length + n);
        byte[] out = new byte[length];
        int fromMore = Math.min(n, length);
        int fromTail = length - fromMore;
        System.arraycopy(tail, tail.length - fromTail, out, 0, fromTail);
        System.arraycopy(more, n - fromMore, out, fromTail, fromMore);
        return out;
    }

    private String[] headers(String requestId) {
        return new String[] {
            "Authorization: Bearer " + oneAtATimeKey, "Content-Type: application/json", "X-Request-Id: " + requestId
        };
    }

    private static String chat(String model, boolean stream) {
        return "{\"model\":\"" + model + "\",\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}";
    }

    private static void assertEndsInErrorEvent(Answer answer, String code) {
        assertThat(answer.cut()).as("the stream must not end cleanly").isNotNull();
        String end = answer.last();
        String last = end.substring(end.lastIndexOf("data: "));
        assertThat(last).startsWith("data: {\"error\":{").contains("\"code\":\"" + code + "\"");
        assertThat(answer.text() + end).doesNotContain(TestGateway.UPSTREAM_KEY).doesNotContain("[DONE]");
    }

    /** Waits until {@code produced} stops growing (two equal reads 300 ms apart) and returns it. */
    private static long stalledAt(AtomicLong produced) {
        long[] last = {-1};
        await().pollInterval(Duration.ofMillis(300))
                .atMost(Duration.ofSeconds(20))
                .until(() -> {
                    long now = produced.get();
                    boolean unchanged = now == last[0];
                    last[0] = now;
                    return unchanged;
                });
        return produced.get();
    }

    /** The heap in use after a full collection: what the test JVM (gateway included) really holds. */
    /**
     * The heap held since {@code before}, the least of up to three looks 200 ms apart while above
     * {@code limit}: this JVM also runs the other test classes' cached gateways, whose background
     * work (ledger batches, price refreshes) holds a few MB now and then; what this gateway keeps
     * while the stream is stalled is there at every look.
     */
    private static long heldSince(long before, long limit) throws InterruptedException {
        long held = heapUsedAfterGc() - before;
        for (int look = 1; look < 3 && held >= limit; look++) {
            Thread.sleep(200);
            held = Math.min(held, heapUsedAfterGc() - before);
        }
        return held;
    }

    private static long heapUsedAfterGc() {
        System.gc();
        return java.lang.management.ManagementFactory.getMemoryMXBean()
                .getHeapMemoryUsage()
                .getUsed();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A large body made of a head, {@code count} pieces of 64 KB (piece {@code i} all the letter
     * {@code 'a' + i % 26}, so a lost or reordered piece changes the digest) and a tail, generated
     * on demand so the test never holds it whole.
     */
    record PatternBody(String head, int count, String tail) {
        private static final int PIECE = 64 * 1024;

        Flux<byte[]> pieces(int from, int to) {
            return Flux.range(from, to - from).map(PatternBody::piece);
        }

        private static byte[] piece(int i) {
            byte[] piece = new byte[PIECE];
            java.util.Arrays.fill(piece, (byte) ('a' + i % 26));
            return piece;
        }

        long length() {
            return head.length() + (long) count * PIECE + tail.length();
        }

        byte[] sha256() {
            MessageDigest sha = UpstreamFaultSuiteIT.sha256();
            sha.update(head.getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i < count; i++) {
                sha.update(piece(i));
            }
            sha.update(tail.getBytes(StandardCharsets.UTF_8));
            return sha.digest();
        }
    }
}
