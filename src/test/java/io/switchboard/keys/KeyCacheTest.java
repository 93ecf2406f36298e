package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.switchboard.exchange.Attribution;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The key cache around reads that answer late: one past its timeout, one that answers after the key changed. */
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

    @Test
    void aReadUnderWayWhenTheKeyChangesIsNotKeptAndTheNextRequestReadsTheChange() throws Exception {
        AtomicInteger reads = new AtomicInteger();
        CountDownLatch firstReadMayAnswer = new CountDownLatch(1);
        ApiKey active = key(null);
        ApiKey revoked = key(Instant.now());
        KeyCache cache = new KeyCache(
                new KeysProperties.Cache(Duration.ofMinutes(10), Duration.ofMinutes(15), 100),
                Duration.ofSeconds(5),
                hash -> reads.incrementAndGet() == 1
                        // The first read found the row before the revocation and answers after it.
                        ? Mono.fromCallable(() -> firstReadMayAnswer.await(5, TimeUnit.SECONDS))
                                .map(ignored -> new KeyMatch(active, null))
                        : Mono.just(new KeyMatch(revoked, null)));

        CompletableFuture<Optional<KeyMatch>> first = cache.get("hash").toFuture();
        await().atMost(Duration.ofSeconds(5)).until(() -> reads.get() == 1);
        cache.invalidateKey("key-1");
        firstReadMayAnswer.countDown();
        assertThat(first.get(5, TimeUnit.SECONDS).orElseThrow().key().revokedAt())
                .isNull();

        Optional<KeyMatch> next = cache.get("hash").block(Duration.ofSeconds(5));
        assertThat(reads).hasValue(2);
        assertThat(next.orElseThrow().key().revokedAt()).isNotNull();
    }

    /**
     * After a channel outage every cached key is read again, but not the hashes known to have no
     * key (a flood of made-up keys leaves many): they are forgotten, and read again only when asked.
     */
    @Test
    void readingEveryKeyAgainSkipsHashesKnownToHaveNoKey() {
        AtomicInteger reads = new AtomicInteger();
        KeyCache cache = new KeyCache(
                new KeysProperties.Cache(Duration.ofMinutes(10), Duration.ofMinutes(15), 10_000),
                Duration.ofSeconds(5),
                hash -> {
                    reads.incrementAndGet();
                    return hash.equals("real") ? Mono.just(new KeyMatch(key(null), null)) : Mono.empty();
                });
        cache.get("real").block(Duration.ofSeconds(5));
        for (int i = 0; i < 1000; i++) {
            cache.get("made-up-" + i).block(Duration.ofSeconds(5));
        }
        assertThat(reads).hasValue(1001);

        cache.refreshAll();

        await().atMost(Duration.ofSeconds(5)).until(() -> reads.get() == 1002);
        assertThat(cache.get("real").block(Duration.ofSeconds(5))).isPresent();
        assertThat(reads).as("only the key found is read again").hasValue(1002);
        assertThat(cache.get("made-up-1").block(Duration.ofSeconds(5))).isEmpty();
        assertThat(reads).as("a forgotten hash is read when asked for").hasValue(1003);
    }

    private static ApiKey key(Instant revokedAt) {
        Instant now = Instant.now();
        return new ApiKey(
                "key-1",
                "key-1",
                "sk-gw-abcd",
                now,
                now,
                null,
                revokedAt,
                null,
                List.of("openai/*"),
                null,
                null,
                null,
                null,
                Attribution.NONE);
    }
}
