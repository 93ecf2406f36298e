package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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

        // The failed entry leaves the cache (Caffeine drops it just after it fails, so a request in
        // between may still see the failure): a later request reads again.
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            cache.get("hash").onErrorResume(error -> Mono.empty()).subscribe();
            return reads.get() >= 2;
        });
        assertThat(cancelled).hasValue(0);
    }
}
