package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class LastUsedRecorderTest {

    @Test
    void aBatchWhoseWriteFailedIsWrittenByTheNextFlush() {
        List<String> written = new ArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        LastUsedRecorder recorder = new LastUsedRecorder(
                (keys, at) -> calls.incrementAndGet() == 1
                        ? Mono.error(new IllegalStateException("database down"))
                        : Mono.fromSupplier(() -> {
                            written.addAll(keys);
                            return (long) keys.size();
                        }),
                Clock.fixed(Instant.parse("2026-12-07T12:00:00Z"), ZoneOffset.UTC),
                Duration.ofHours(1));
        recorder.record("key-1");

        StepVerifier.create(recorder.flush()).expectError().verify(Duration.ofSeconds(5));
        recorder.record("key-2");
        recorder.flush().block(Duration.ofSeconds(5));

        assertThat(written).containsExactlyInAnyOrder("key-1", "key-2");
        recorder.close();
    }

    @Test
    void keysUsedSinceTheLastFlushAreWrittenWhenTheGatewayStops() {
        List<String> written = new ArrayList<>();
        LastUsedRecorder recorder = new LastUsedRecorder(
                (keys, at) -> Mono.fromSupplier(() -> {
                    written.addAll(keys);
                    return (long) keys.size();
                }),
                Clock.fixed(Instant.parse("2026-12-07T12:00:00Z"), ZoneOffset.UTC),
                Duration.ofHours(1));
        recorder.record("key-1");

        recorder.close();

        // A stop once cancelled the schedule and left this use unwritten.
        assertThat(written).containsExactly("key-1");
    }
}
