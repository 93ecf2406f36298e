package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** A database read that does not answer in time: the caller stops waiting, the read is not cancelled. */
class KeyCacheTest {

    @Test
    void aLookupPastItsTimeoutFailsTheCallerWithoutCancellingTheReadAndIsTriedAgainNextTime() {
        AtomicInteger reads = new AtomicInteger();
        AtomicInteger cancelled = new AtomicInteger();
        KeyCache cache = new KeyCache(
                new KeysProperties.Cache(Duration.ofSeconds(15), Duration.ofMinutes(15), 100),
                Duration.ofMillis(200),
                hash -> Mono.<KeyMatch>never()
                        .doOnSubscribe(subscription -> reads.incrementAndGet())
                        .doOnCancel(cancelled::incrementAndGet));

        StepVerifier.create(cache.get("hash"))
                .expectError(TimeoutException.class)
                .verify(Duration.ofSeconds(5));
        // A cancelled R2DBC statement may leak its bound parameters (r2dbc-postgresql #734).
        assertThat(cancelled).hasValue(0);

        // The failed entry is gone: the next request reads again instead of waiting on the old read.
        StepVerifier.create(cache.get("hash"))
                .expectError(TimeoutException.class)
                .verify(Duration.ofSeconds(5));
        assertThat(reads).hasValue(2);
    }
}
