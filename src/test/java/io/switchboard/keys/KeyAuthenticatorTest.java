package io.switchboard.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.switchboard.exchange.Attribution;
import io.switchboard.exchange.CallerKey;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The authentication rules against an in-memory key table whose "database" can be switched off: what
 * a caller gets for each kind of key, and what happens while the database is down.
 */
class KeyAuthenticatorTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final SecureRandom random = new SecureRandom();
    private final SecretHasher hasher = new SecretHasher(null);
    private final Map<String, KeyMatch> table = new ConcurrentHashMap<>();
    private final AtomicBoolean databaseDown = new AtomicBoolean();
    private final AtomicInteger reads = new AtomicInteger();
    private final LastUsedRecorder lastUsed =
            new LastUsedRecorder((ids, at) -> Mono.just((long) ids.size()), Clock.systemUTC(), Duration.ofHours(1));

    private KeyAuthenticator authenticator(Duration refresh, List<KeysProperties.StaticKey> statics) {
        KeyCache cache = new KeyCache(
                new KeysProperties.Cache(refresh, Duration.ofHours(1), 1000), Duration.ofSeconds(1), hash -> {
                    reads.incrementAndGet();
                    if (databaseDown.get()) {
                        return Mono.error(new IllegalStateException("connection refused"));
                    }
                    return Mono.justOrEmpty(table.get(hash));
                });
        return new KeyAuthenticator(hasher, new StaticKeys(statics, hasher), cache, lastUsed, Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        lastUsed.close();
    }

    private String store(ApiKey key, Instant secretExpiresAt) {
        String secret = ApiKeyFormat.generate(random);
        table.put(hasher.hash(secret), new KeyMatch(key, secretExpiresAt));
        return secret;
    }

    private static ApiKey key(String id, Instant expiresAt, Instant revokedAt) {
        Instant now = Instant.now();
        return new ApiKey(
                id,
                id,
                "sk-gw-abcd",
                now,
                now,
                expiresAt,
                revokedAt,
                null,
                List.of("openai/*"),
                60L,
                null,
                null,
                null,
                Attribution.NONE);
    }

    @Test
    void liveKeyBecomesItsCallerWithItsLimits() {
        String secret = store(key("key_live", null, null), null);
        StepVerifier.create(authenticator(Duration.ofHours(1), List.of()).authenticate(secret))
                .assertNext(caller -> {
                    assertThat(caller.id()).isEqualTo("key_live");
                    assertThat(caller.allowedModels()).containsExactly("openai/*");
                    assertThat(caller.rpm()).isEqualTo(60L);
                })
                .expectComplete()
                .verify(TIMEOUT);
    }

    @Test
    void unknownRevokedExpiredAndMalformedKeysAllEndTheSameWay() {
        KeyAuthenticator keys = authenticator(Duration.ofHours(1), List.of());
        Instant past = Instant.now().minusSeconds(1);
        List<String> refused = List.of(
                ApiKeyFormat.generate(random),
                store(key("key_revoked", null, past), null),
                store(key("key_expired", past, null), null),
                store(key("key_rotated", null, null), past),
                "sk-gw-not-a-key",
                "");
        for (String secret : refused) {
            StepVerifier.create(keys.authenticate(secret)).expectComplete().verify(TIMEOUT);
        }
    }

    @Test
    void malformedKeysNeverReachTheDatabase() {
        KeyAuthenticator keys = authenticator(Duration.ofHours(1), List.of());
        String valid = ApiKeyFormat.generate(random);
        String typo = valid.substring(0, 20) + (valid.charAt(20) == 'x' ? 'y' : 'x') + valid.substring(21);
        StepVerifier.create(keys.authenticate(typo)).expectComplete().verify(TIMEOUT);
        StepVerifier.create(keys.authenticate("Bearer whatever"))
                .expectComplete()
                .verify(TIMEOUT);
        assertThat(reads).hasValue(0);
    }

    @Test
    void staticKeysNeedNoDatabase() {
        String secret = ApiKeyFormat.generate(random);
        KeysProperties.StaticKey declared = new KeysProperties.StaticKey(
                "ci", secret, null, List.of("demo/*"), null, null, 2, null, null, "CI", null);
        databaseDown.set(true);
        StepVerifier.create(
                        authenticator(Duration.ofHours(1), List.of(declared)).authenticate(secret))
                .assertNext(caller -> {
                    assertThat(caller.id()).isEqualTo("static:ci");
                    assertThat(caller.maxConcurrency()).isEqualTo(2);
                    assertThat(caller.attribution().title()).isEqualTo("CI");
                })
                .expectComplete()
                .verify(TIMEOUT);
        assertThat(reads).hasValue(0);
    }

    @Test
    void aStaticKeyNameTheLedgerCannotStoreAsItIsIsRefusedAtStart() {
        String secret = ApiKeyFormat.generate(random);
        KeysProperties.StaticKey declared = new KeysProperties.StaticKey(
                "n".repeat(94), secret, null, List.of(), null, null, null, null, null, null, null);
        assertThatThrownBy(() -> new StaticKeys(List.of(declared), hasher))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("gateway.keys.static[0].name is longer than 93");
        KeysProperties.StaticKey control = new KeysProperties.StaticKey(
                "a\u0000b", secret, null, List.of(), null, null, null, null, null, null, null);
        assertThatThrownBy(() -> new StaticKeys(List.of(control), hasher))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("control character");
        KeysProperties.StaticKey longest = new KeysProperties.StaticKey(
                "n".repeat(93), secret, null, List.of(), null, null, null, null, null, null, null);
        assertThat(new StaticKeys(List.of(longest), hasher).size()).isEqualTo(1);
    }

    @Test
    void verifiedKeyKeepsWorkingWhileTheDatabaseIsDown() {
        KeyAuthenticator keys = authenticator(Duration.ofMillis(1), List.of());
        String secret = store(key("key_cached", null, null), null);
        StepVerifier.create(keys.authenticate(secret))
                .expectNextCount(1)
                .expectComplete()
                .verify(TIMEOUT);

        databaseDown.set(true);
        // Each request past the refresh age asks the database again in the background; the cached
        // answer is served meanwhile and kept when the refresh fails.
        await().atMost(TIMEOUT).untilAsserted(() -> {
            CallerKey caller = keys.authenticate(secret).block(TIMEOUT);
            assertThat(caller).isNotNull();
            assertThat(reads.get()).isGreaterThanOrEqualTo(3);
        });
    }

    @Test
    void unknownKeyWhileTheDatabaseIsDownIsUnavailableNotInvalid() {
        KeyAuthenticator keys = authenticator(Duration.ofHours(1), List.of());
        databaseDown.set(true);
        StepVerifier.create(keys.authenticate(ApiKeyFormat.generate(random)))
                .expectError(KeyStoreUnavailableException.class)
                .verify(TIMEOUT);
    }

    @Test
    void aBurstOfConcurrentRequestsWithOneNewKeyMakesOneRead() {
        KeyAuthenticator keys = authenticator(Duration.ofHours(1), List.of());
        String secret = store(key("key_burst", null, null), null);
        List<CallerKey> callers = reactor.core.publisher.Flux.range(0, 1000)
                .flatMap(i -> keys.authenticate(secret), 256)
                .collectList()
                .block(TIMEOUT);
        assertThat(callers).hasSize(1000);
        assertThat(reads).hasValue(1);
    }

    @Test
    void aThousandUnknownKeysAreReadOnceEachAndThenAnsweredFromMemory() {
        KeyAuthenticator keys = authenticator(Duration.ofHours(1), List.of());
        List<String> unknown = java.util.stream.IntStream.range(0, 1000)
                .mapToObj(i -> ApiKeyFormat.generate(random))
                .toList();
        for (int pass = 0; pass < 2; pass++) {
            long admitted = reactor.core.publisher.Flux.fromIterable(unknown)
                    .flatMap(keys::authenticate, 64)
                    .count()
                    .block(TIMEOUT);
            assertThat(admitted).isZero();
            assertThat(reads).hasValue(1000);
        }
    }
}
