package io.switchboard.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class GatewayMetersTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final GatewayMeters meters = new GatewayMeters(registry, new MetricsProperties(true, 3, 2));

    /** What the usage ledger offers the meters: its queue's depth and what it lost and spilled. */
    static final class Ledger {
        final AtomicLong depth = new AtomicLong();
        final AtomicLong lost = new AtomicLong();
        final AtomicLong spilled = new AtomicLong();

        long depth() {
            return depth.get();
        }

        long lost() {
            return lost.get();
        }

        long spilled() {
            return spilled.get();
        }
    }

    /**
     * Micrometer holds a function counter's object weakly: counters read through a method reference
     * that nothing else held froze at their value of the first collection, and an alert on lost
     * usage records never fired.
     */
    @Test
    void usageLossAndSpillStillCountAfterAGarbageCollection() {
        Ledger ledger = new Ledger();
        meters.usageQueue(ledger, Ledger::depth, Ledger::lost, Ledger::spilled);
        ledger.lost.set(3);
        assertThat(registry.get("switchboard.usage.lost").functionCounter().count())
                .isEqualTo(3);
        System.gc(); // collected the method references the counters once held, weakly
        ledger.depth.set(9);
        ledger.lost.set(42);
        ledger.spilled.set(7);
        assertThat(registry.get("switchboard.usage.queue.depth").gauge().value())
                .isEqualTo(9);
        assertThat(registry.get("switchboard.usage.lost").functionCounter().count())
                .isEqualTo(42);
        assertThat(registry.get("switchboard.usage.spilled").functionCounter().count())
                .isEqualTo(7);
    }

    @Test
    void modelsPastTheBoundAreCountedAsOtherSoNoRequestCreatesMetersWithoutBound() {
        for (int i = 0; i < 50; i++) {
            meters.request("team-a", "model-" + i, "openrouter", "2xx", false, 1_000_000);
        }
        assertThat(registry.find("switchboard.requests").counters()).hasSize(4);
        assertThat(modelCount("switchboard.requests", "other")).isEqualTo(47);
        assertThat(modelCount("switchboard.requests", "model-0")).isEqualTo(1);
    }

    @Test
    void refusedRequestsWithMadeUpModelsDoNotTakeThePlacesOfRealModels() {
        for (int i = 0; i < 50; i++) {
            meters.request("team-a", "made-up-" + i, "none", "4xx", false, 1_000_000);
        }
        meters.request("team-a", "openai/gpt-5-nano", "openrouter", "2xx", false, 1_000_000);
        meters.request("team-a", "openai/gpt-5-nano", "openrouter", "5xx", false, 1_000_000);

        assertThat(modelCount("switchboard.requests", "other")).isEqualTo(50);
        assertThat(registry.get("switchboard.requests")
                        .tag("model", "openai/gpt-5-nano")
                        .counters())
                .hasSize(2);
    }

    @Test
    void requestsAndTokensOfOneTagCombinationAddUpInOneSeries() {
        for (int i = 0; i < 3; i++) {
            meters.request("team-a", "m", "openrouter", "2xx", true, 2_000_000);
            meters.tokens("team-a", "m", "openrouter", "prompt", 10);
        }
        meters.tokens("team-a", "m", "openrouter", "completion", 0);

        Timer duration = registry.get("switchboard.request.duration")
                .tag("stream", "true")
                .timer();
        assertThat(duration.count()).isEqualTo(3);
        assertThat(duration.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(6.0);
        assertThat(registry.get("switchboard.requests").counter().count()).isEqualTo(3);
        assertThat(registry.get("switchboard.tokens")
                        .tag("type", "prompt")
                        .counter()
                        .count())
                .isEqualTo(30);
        assertThat(registry.find("switchboard.tokens").tag("type", "completion").counter())
                .isNull();
    }

    @Test
    void keyNamesAreBoundedToo() {
        meters.rejected("rpm", "a");
        meters.rejected("rpm", "b");
        meters.rejected("rpm", "c");
        meters.rejected("budget", "d");
        assertThat(registry.get("switchboard.ratelimit.rejections")
                        .tag("key", "other")
                        .counters())
                .hasSize(2);
    }

    @Test
    void activeStreamsRiseAndFall() {
        meters.streamOpened();
        meters.streamOpened();
        meters.streamClosed();
        assertThat(registry.get("switchboard.active.streams").gauge().value()).isEqualTo(1.0);
    }

    /**
     * A request that never got an answer (a client that left) still has an estimate of its prompt:
     * its model, any string the client sent, must not take one of the bounded places either.
     */
    @Test
    void estimatesForUnansweredRequestsWithMadeUpModelsDoNotTakeThePlacesOfRealModels() {
        for (int i = 0; i < 50; i++) {
            meters.tokens("team-a", meters.usageModelTag("made-up-" + i, false), "openrouter", "prompt", 10);
        }
        meters.tokens("team-a", meters.usageModelTag("openai/gpt-5-nano", true), "openrouter", "prompt", 10);

        assertThat(modelCount("switchboard.tokens", "other")).isEqualTo(500);
        assertThat(modelCount("switchboard.tokens", "openai/gpt-5-nano")).isEqualTo(10);
    }

    @Test
    void timeToFirstTokenKeepsStreamsApartFromWholeAnswers() {
        meters.timeToFirstToken("team-a", "m", "openrouter", true, 300);
        meters.timeToFirstToken("team-a", "m", "openrouter", false, 4_000);
        assertThat(registry.get("switchboard.time.to.first.token")
                        .tag("stream", "true")
                        .timer()
                        .max(TimeUnit.MILLISECONDS))
                .isEqualTo(300.0);
        assertThat(registry.get("switchboard.time.to.first.token")
                        .tag("stream", "false")
                        .timer()
                        .max(TimeUnit.MILLISECONDS))
                .isEqualTo(4_000.0);
    }

    /** The count of {@code meter}'s counter whose {@code model} tag is {@code model}. */
    private double modelCount(String meter, String model) {
        return registry.get(meter).tag("model", model).counter().count();
    }
}
