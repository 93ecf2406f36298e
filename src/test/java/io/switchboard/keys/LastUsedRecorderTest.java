package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

class LastUsedRecorderTest {

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
