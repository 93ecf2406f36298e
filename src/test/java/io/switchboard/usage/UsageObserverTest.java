package io.switchboard.usage;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.switchboard.exchange.ExchangeOutcome;
import io.switchboard.exchange.GatewayExchange;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.http.HttpHeaders;

class UsageObserverTest {

    private static final String USAGE_EVENT = "data: {\"id\":\"gen-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,"
            + "\"completion_tokens\":20,\"total_tokens\":30,\"cost\":0.0012,\"prompt_tokens_details\":{\"cached_tokens\":4},"
            + "\"completion_tokens_details\":{\"reasoning_tokens\":5}},\"model\":\"openai/gpt-5-nano\",\"provider\":\"OpenAI\"}";

    private final List<UsageRecord> records = new ArrayList<>();

    private UsageObserver observer(GatewayExchange exchange) {
        return new UsageObserver(exchange, exchange.request(), UsageFixtures.prices(Map.of()), records::add);
    }

    /** An observer whose model is priced by configuration: 0.001 per prompt token, 0.002 per completion token. */
    private UsageObserver priced(GatewayExchange exchange) {
        return new UsageObserver(
                exchange,
                exchange.request(),
                UsageFixtures.prices(Map.of(
                        "openai/gpt-5-nano",
                        new PricingProperties.Override(new BigDecimal("0.001"), new BigDecimal("0.002")))),
                records::add);
    }

    private static String chunk(String content) {
        return "data: {\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"model\":\"openai/gpt-5-nano\","
                + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + content + "\"},\"finish_reason\":null}]}";
    }

    private static boolean send(UsageObserver observer, String event) {
        ByteBuf buf = Unpooled.copiedBuffer(event, StandardCharsets.UTF_8);
        try {
            boolean relay = observer.onEvent(buf);
            assertThat(buf.readerIndex())
                    .as("the event's buffer is not consumed")
                    .isZero();
            return relay;
        } finally {
            buf.release();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"\n", "\r", "\r\n"})
    void readsUsageFromTheStreamWhateverTheLineEndings(String eol) {
        UsageObserver observer = observer(UsageFixtures.exchange(true, false));
        observer.onUpstreamResponse(200, new HttpHeaders());
        assertThat(send(observer, ": OPENROUTER PROCESSING" + eol + eol)).isTrue();
        assertThat(send(observer, chunk("Hel") + eol + eol)).isTrue();
        assertThat(send(observer, chunk("lo") + eol + eol)).isTrue();
        assertThat(send(observer, USAGE_EVENT + eol + eol)).isTrue();
        assertThat(send(observer, "data: [DONE]" + eol + eol)).isTrue();
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.COMPLETED, 200, null));

        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.outcome()).isEqualTo(UsageOutcome.SUCCESS);
            assertThat(r.promptTokens()).isEqualTo(10);
            assertThat(r.completionTokens()).isEqualTo(20);
            assertThat(r.totalTokens()).isEqualTo(30);
            assertThat(r.cachedTokens()).isEqualTo(4);
            assertThat(r.reasoningTokens()).isEqualTo(5);
            assertThat(r.costUsd()).isEqualByComparingTo("0.0012");
            assertThat(r.costSource()).isEqualTo("upstream");
            assertThat(r.estimated()).isFalse();
            assertThat(r.generationId()).isEqualTo("gen-1");
            assertThat(r.servedModel()).isEqualTo("openai/gpt-5-nano");
            assertThat(r.upstreamProvider()).isEqualTo("OpenAI");
            assertThat(r.keyId()).isEqualTo("key-1");
            assertThat(r.ttftMs()).isNotNull();
        });
    }

    /** An observer whose generation ids, as told to the crash journal, land in {@code told}. */
    private UsageObserver journaling(GatewayExchange exchange, List<String> told) {
        return new UsageObserver(
                exchange, exchange.request(), UsageFixtures.prices(Map.of()), "entry-1", null, told::add, records::add);
    }

    @Test
    void tellsTheJournalTheGenerationIdOnceAsSoonAsTheResponseHeadersGiveIt() {
        List<String> told = new ArrayList<>();
        UsageObserver observer = journaling(UsageFixtures.exchange(true, false), told);
        HttpHeaders headers = new HttpHeaders();
        headers.add("X-Generation-Id", "gen-from-headers");

        observer.onUpstreamResponse(200, headers);
        assertThat(told).containsExactly("gen-from-headers");

        send(observer, chunk("Hel") + "\n\n");
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.CLIENT_CLOSED, 200, null));
        assertThat(told).as("told once").containsExactly("gen-from-headers");
        assertThat(records.get(0).generationId()).isEqualTo("gen-from-headers");
    }

    @Test
    void withoutTheHeaderTellsTheJournalTheStreamsOwnIdAtItsFirstEvent() {
        List<String> told = new ArrayList<>();
        UsageObserver observer = journaling(UsageFixtures.exchange(true, false), told);

        observer.onUpstreamResponse(200, new HttpHeaders());
        send(observer, ": OPENROUTER PROCESSING\n\n");
        assertThat(told).isEmpty();
        send(observer, chunk("Hel") + "\n\n");
        assertThat(told).containsExactly("gen-1");
        send(observer, chunk("lo") + "\n\n");
        assertThat(told).as("told once").containsExactly("gen-1");
    }

    @Test
    void dropsTheUsageOnlyEventOnlyWhenTheGatewayAskedForIt() {
        UsageObserver injected = observer(UsageFixtures.exchange(true, true));
        assertThat(send(injected, chunk("a") + "\n\n")).isTrue();
        assertThat(send(injected, USAGE_EVENT + "\n\n")).isFalse();
        assertThat(send(injected, "data: [DONE]\n\n")).isTrue();

        UsageObserver asked = observer(UsageFixtures.exchange(true, false));
        assertThat(send(asked, USAGE_EVENT + "\n\n")).isTrue();
    }

    @Test
    void anEventWithUsageAndAChoiceIsNeverDropped() {
        UsageObserver injected = observer(UsageFixtures.exchange(true, true));
        String both = "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"usage\":{\"prompt_tokens\":1}}\n\n";
        assertThat(send(injected, both)).isTrue();
    }

    @Test
    void multiLineDataIsJoinedAndOtherFieldsIgnored() {
        UsageObserver observer = observer(UsageFixtures.exchange(true, false));
        send(
                observer,
                "event: message\nid: 7\ndata: {\"id\":\"gen-9\",\"choices\":[],\ndata: \"usage\":{\"prompt_tokens\":3,"
                        + "\"completion_tokens\":4}}\n\n");
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.COMPLETED, 200, null));
        assertThat(records.get(0).promptTokens()).isEqualTo(3);
        assertThat(records.get(0).completionTokens()).isEqualTo(4);
        assertThat(records.get(0).totalTokens()).isEqualTo(7);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void anEventReadsTheSameWhetherItsJsonIsOneDataLineOrSeveral(boolean splitOverLines) {
        // One data: line is read in place by the plain parser; several are joined and read in pieces
        // by the non-blocking one behind the long-string elider. Both must keep every field.
        String[] parts = {
            "{\"id\":\"gen-42\",\"provider\":\"OpenAI\",\"model\":\"openai/gpt-5-nano-2025\",",
            "\"ignored\":{\"deep\":[1,{\"x\":\"" + "q".repeat(10_000) + "\"}]},",
            "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}],",
            "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":22,\"total_tokens\":33,\"cost\":0.0042,",
            "\"prompt_tokens_details\":{\"cached_tokens\":5},\"completion_tokens_details\":{\"reasoning_tokens\":7}}}"
        };
        String event = splitOverLines
                ? "data: " + String.join("\ndata: ", parts) + "\n\n"
                : "data: " + String.join("", parts) + "\n\n";
        UsageObserver observer = observer(UsageFixtures.exchange(true, false));
        observer.onUpstreamResponse(200, new HttpHeaders());
        send(observer, event);
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.CLIENT_CLOSED, 200, null));

        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.generationId()).isEqualTo("gen-42");
            assertThat(r.servedModel()).isEqualTo("openai/gpt-5-nano-2025");
            assertThat(r.upstreamProvider()).isEqualTo("OpenAI");
            assertThat(r.estimated())
                    .as("the upstream's own usage, not an estimate")
                    .isFalse();
            assertThat(r.promptTokens()).isEqualTo(11);
            assertThat(r.completionTokens()).isEqualTo(22);
            assertThat(r.totalTokens()).isEqualTo(33);
            assertThat(r.cachedTokens()).isEqualTo(5);
            assertThat(r.reasoningTokens()).isEqualTo(7);
            assertThat(r.costUsd()).isEqualByComparingTo("0.0042");
            assertThat(r.ttftMs()).as("the event carried content").isNotNull();
        });
    }

    /** Tool-call deltas and the legacy completions' text are generated tokens: first token, estimates. */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a\\\"\"}}]}}]}",
                "{\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\"Hello\",\"finish_reason\":null}]}"
            })
    void toolCallsAndCompletionTextCountAsGeneratedContent(String json) {
        UsageObserver observer = observer(UsageFixtures.exchange(true, false));
        observer.onUpstreamResponse(200, new HttpHeaders());
        send(observer, "data: " + json + "\n\n");
        send(observer, "data: " + json + "\n\n");
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.CLIENT_CLOSED, 200, null));

        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.ttftMs()).as("time to first token").isNotNull();
            assertThat(r.estimated()).isTrue();
            assertThat(r.completionTokens())
                    .as("estimated from the content events relayed")
                    .isEqualTo(2);
        });
    }

    /** A priced stream of one content event whose usage (10 + 20 tokens) reports {@code cost}, ended. */
    private void streamReportingCost(String cost) {
        UsageObserver observer = priced(UsageFixtures.exchange(true, false));
        observer.onUpstreamResponse(200, new HttpHeaders());
        send(observer, chunk("some") + "\n\n");
        send(
                observer,
                "data: {\"id\":\"gen-c\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":20,"
                        + "\"total_tokens\":30,\"cost\":" + cost + "}}\n\n");
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.COMPLETED, 200, null));
    }

    /**
     * A cost of 0 from the upstream (a free model, a key the company brings itself) is the cost:
     * never replaced by a price from the model list, which would charge the key's budget for it.
     */
    @Test
    void anUpstreamCostOfZeroIsKeptAndNotPriced() {
        streamReportingCost("0");

        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.costUsd()).isEqualByComparingTo("0");
            assertThat(r.costSource()).isEqualTo("upstream");
        });
    }

    /**
     * A cost the ledger cannot store (PostgreSQL refused the row, and with it every retry of its
     * batch) or a negative one (money back to a budget) is not taken as the upstream's: the row is
     * priced as if the upstream had reported none.
     */
    @ParameterizedTest
    @ValueSource(strings = {"1e13", "1000000000000", "-0.5"})
    void anUpstreamCostTheLedgerCannotHoldIsPricedInstead(String cost) {
        streamReportingCost(cost);

        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.costSource()).isEqualTo("priced");
            // 10 * 0.001 + 20 * 0.002
            assertThat(r.costUsd()).isEqualByComparingTo("0.05");
        });
    }

    /**
     * Token counts of any size times the model's price: a cost past what the ledger's column holds
     * (10^12 USD) stopped PostgreSQL's ledger, every retry of its batch refused. It is kept at the
     * largest cost the ledger holds, which spends any budget.
     */
    @Test
    void aPricedCostPastWhatTheLedgerHoldsIsKeptAtItsLargest() {
        UsageObserver observer = priced(UsageFixtures.exchange(true, false));
        observer.onUpstreamResponse(200, new HttpHeaders());
        send(observer, chunk("some") + "\n\n");
        send(
                observer,
                "data: {\"id\":\"gen-c\",\"choices\":[],\"usage\":{\"prompt_tokens\":100000000000000000,"
                        + "\"completion_tokens\":20,\"total_tokens\":100000000000000020}}\n\n");
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.COMPLETED, 200, null));

        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.costSource()).isEqualTo("priced");
            assertThat(r.costUsd()).isEqualByComparingTo("999999999999.999999999999");
        });
    }

    /**
     * A usage object without counts, or a usage event cut short, reports nothing: the row stays an
     * estimate (to be settled), and the cut event reaches the client unchanged even when the gateway
     * asked for usage on the client's behalf.
     */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "data: {\"id\":\"gen-e\",\"choices\":[],\"usage\":{}}\n\n",
                "data: {\"id\":\"gen-e\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tok\n\n"
            })
    void aUsageEventWithoutWholeCountsLeavesTheRowAnEstimate(String event) {
        UsageObserver observer = observer(UsageFixtures.exchange(true, true));
        observer.onUpstreamResponse(200, new HttpHeaders());
        send(observer, chunk("one") + "\n\n");
        boolean relayed = send(observer, event);
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.COMPLETED, 200, null));

        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.estimated()).isTrue();
            assertThat(r.completionTokens()).as("one content event").isEqualTo(1);
        });
        if (event.contains("completion_tok\n")) {
            assertThat(relayed).as("a malformed event is relayed unchanged").isTrue();
        }
    }

    @Test
    void dataLinesAreJoinedAcrossCrlfEndingsCommentsAndOtherFields() {
        // Later data: lines move down in the event's copy to join the first: what lies between them
        // (line ends of two bytes, a comment, an id field) must drop out, and only a newline join them.
        UsageObserver observer = observer(UsageFixtures.exchange(true, false));
        send(
                observer,
                "data: {\"id\":\"gen-7\",\r\n: a comment between\r\nid: 3\r\ndata:\"usage\":\r\ndata: {\"prompt_tokens\":2,"
                        + "\r\ndata:  \"completion_tokens\":5}}\r\n\r\n");
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.COMPLETED, 200, null));
        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.generationId()).isEqualTo("gen-7");
            assertThat(r.promptTokens()).isEqualTo(2);
            assertThat(r.completionTokens()).isEqualTo(5);
        });
    }

    @Test
    void anEventWithAnEmptyContentIsNoToken() {
        UsageObserver observer = observer(UsageFixtures.exchange(true, false));
        observer.onUpstreamResponse(200, new HttpHeaders());
        send(observer, chunk("") + "\n\n");
        send(observer, chunk("") + "\n\n");
        send(observer, chunk("a") + "\n\n");
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.CLIENT_CLOSED, 200, null));
        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.estimated()).isTrue();
            assertThat(r.completionTokens()).as("only the event with content").isEqualTo(1);
        });
    }

    @Test
    void inBandErrorInsideA200StreamIsAFailure() {
        UsageObserver observer = observer(UsageFixtures.exchange(true, false));
        send(observer, chunk("partial") + "\n\n");
        send(
                observer,
                "data: {\"id\":\"gen-1\",\"error\":{\"code\":502,\"message\":\"Provider disconnected\"},"
                        + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}\n\n");
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.COMPLETED, 200, null));
        assertThat(records.get(0).outcome()).isEqualTo(UsageOutcome.MIDSTREAM_ERROR);
        assertThat(records.get(0).outcome().failed()).isTrue();
    }

    @Test
    void clientThatLeftGetsAnEstimateFromTheRelayedEvents() {
        UsageObserver observer = observer(UsageFixtures.exchange(true, false));
        HttpHeaders headers = new HttpHeaders();
        headers.add("X-Generation-Id", "gen-abc");
        observer.onUpstreamResponse(200, headers);
        send(observer, chunk("one") + "\n\n");
        send(observer, chunk("two") + "\n\n");
        send(observer, chunk("three") + "\n\n");
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.CLIENT_CLOSED, 200, null));
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.CLIENT_CLOSED, 200, null));

        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.outcome()).isEqualTo(UsageOutcome.CLIENT_CLOSED);
            assertThat(r.completionTokens()).isEqualTo(3);
            assertThat(r.promptTokens()).isEqualTo(12);
            assertThat(r.estimated()).isTrue();
            assertThat(r.generationId()).isEqualTo("gen-abc");
            assertThat(r.needsSettlement()).isTrue();
        });
    }

    @Test
    void malformedEventIsRelayedAndDoesNotStopLaterUsage() {
        UsageObserver observer = observer(UsageFixtures.exchange(true, false));
        assertThat(send(observer, "data: {\"choices\":[{\"delta\":\n\n")).isTrue();
        assertThat(send(observer, "data: not json at all\n\n")).isTrue();
        send(observer, USAGE_EVENT + "\n\n");
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.COMPLETED, 200, null));
        assertThat(records.get(0).completionTokens()).isEqualTo(20);
    }

    @Test
    void readsUsageFromAJsonBodySplitAnywhere() {
        String body =
                "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"openai/gpt-5-nano\",\"provider\":\"OpenAI\","
                        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"usage: {\\\"prompt_tokens\\\": 999}\"},"
                        + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":22,\"total_tokens\":33,"
                        + "\"prompt_tokens_details\":{\"cached_tokens\":1},\"completion_tokens_details\":{\"reasoning_tokens\":2}}}";
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        for (int split = 1; split < bytes.length; split += 7) {
            records.clear();
            UsageObserver observer = priced(UsageFixtures.exchange(false, false));
            ByteBuf first = Unpooled.directBuffer().writeBytes(bytes, 0, split);
            ByteBuf second = Unpooled.wrappedBuffer(bytes, split, bytes.length - split);
            observer.onBodyChunk(first);
            observer.onBodyChunk(second);
            first.release();
            second.release();
            observer.onFirstByte();
            observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.COMPLETED, 200, null));
            UsageRecord r = records.get(0);
            assertThat(r.promptTokens()).as("split at %d", split).isEqualTo(11);
            assertThat(r.completionTokens()).isEqualTo(22);
            assertThat(r.cachedTokens()).isEqualTo(1);
            assertThat(r.reasoningTokens()).isEqualTo(2);
            assertThat(r.generationId()).isEqualTo("chatcmpl-1");
            // No cost from the upstream: priced from configuration, 11 * 0.001 + 22 * 0.002.
            assertThat(r.costUsd()).isEqualByComparingTo("0.055");
            assertThat(r.costSource()).isEqualTo("priced");
        }
    }

    @Test
    void upstreamErrorStatusRecordsNoTokens() {
        UsageObserver observer = observer(UsageFixtures.exchange(false, false));
        observer.onUpstreamResponse(429, new HttpHeaders());
        ByteBuf error = Unpooled.copiedBuffer("<html>busy</html>", StandardCharsets.UTF_8);
        observer.onBodyChunk(error);
        error.release();
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.UPSTREAM_ERROR_STATUS, 429, null));
        assertThat(records.get(0).outcome()).isEqualTo(UsageOutcome.UPSTREAM_ERROR);
        assertThat(records.get(0).status()).isEqualTo(429);
        assertThat(records.get(0).totalTokens()).isZero();
        assertThat(records.get(0).estimated()).isFalse();
    }

    /** Bytes as an event loop hands them over: a direct buffer, which the scanners copy to read. */
    private static ByteBuf direct(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return Unpooled.directBuffer(bytes.length).writeBytes(bytes);
    }

    private static void sendDirect(UsageObserver observer, String event) {
        ByteBuf buf = direct(event);
        try {
            observer.onEvent(buf);
        } finally {
            buf.release();
        }
    }

    private static String usageEvent(long prompt, long completion) {
        return "data: {\"id\":\"gen-" + prompt + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + prompt
                + ",\"completion_tokens\":" + completion + ",\"total_tokens\":" + (prompt + completion) + "}}\n\n";
    }

    @Test
    void streamsRelayedInTurnOnOneThreadEachCountTheirOwnEventsIncludingOneLargerThanTheSharedCopy() {
        // The scanners copy each event into one array per thread: streams on the same event loop take
        // turns with it, and an event larger than what that array keeps must be read whole all the same.
        String large = chunk("x".repeat(ScanScratch.KEEP_MAX + 1000));
        UsageObserver a = observer(UsageFixtures.exchange(true, false));
        UsageObserver b = observer(UsageFixtures.exchange(true, false));
        a.onUpstreamResponse(200, new HttpHeaders());
        b.onUpstreamResponse(200, new HttpHeaders());
        sendDirect(a, chunk("Hel") + "\n\n");
        sendDirect(b, large + "\n\n");
        sendDirect(a, chunk("lo") + "\n\n");
        sendDirect(b, chunk("!") + "\n\n");
        sendDirect(b, usageEvent(7, 70));
        sendDirect(a, usageEvent(3, 30));
        a.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.COMPLETED, 200, null));
        b.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.COMPLETED, 200, null));

        assertThat(records).hasSize(2);
        assertThat(records.get(0).promptTokens()).isEqualTo(3);
        assertThat(records.get(0).completionTokens()).isEqualTo(30);
        assertThat(records.get(1).promptTokens()).isEqualTo(7);
        assertThat(records.get(1).completionTokens()).isEqualTo(70);
    }

    @Test
    void aClientThatLeftAfterALargeEventIsEstimatedFromEveryContentEvent() {
        UsageObserver observer = observer(UsageFixtures.exchange(true, false));
        observer.onUpstreamResponse(200, new HttpHeaders());
        sendDirect(observer, chunk("y".repeat(ScanScratch.KEEP_MAX * 2)) + "\n\n");
        sendDirect(observer, chunk("z") + "\n\n");
        observer.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.CLIENT_CLOSED, 200, null));
        assertThat(records).singleElement().satisfies(r -> {
            assertThat(r.estimated()).isTrue();
            assertThat(r.completionTokens()).as("both content events counted").isEqualTo(2);
        });
    }

    @Test
    void bodiesReadInTurnOnOneThreadEachKeepTheirOwnUsage() {
        String first =
                "{\"id\":\"a\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}";
        String second =
                "{\"id\":\"b\",\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":5,\"total_tokens\":9}}";
        UsageObserver a = observer(UsageFixtures.exchange(false, false));
        UsageObserver b = observer(UsageFixtures.exchange(false, false));
        int cut = 20;
        feedDirect(a, first.substring(0, cut));
        feedDirect(b, second.substring(0, cut));
        feedDirect(a, first.substring(cut));
        feedDirect(b, second.substring(cut));
        a.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.COMPLETED, 200, null));
        b.onFinish(new ExchangeOutcome(ExchangeOutcome.Kind.COMPLETED, 200, null));
        assertThat(records).extracting(UsageRecord::generationId).containsExactly("a", "b");
        assertThat(records).extracting(UsageRecord::totalTokens).containsExactly(3L, 9L);
    }

    private static void feedDirect(UsageObserver observer, String part) {
        ByteBuf buf = direct(part);
        try {
            observer.onBodyChunk(buf);
        } finally {
            buf.release();
        }
    }
}
