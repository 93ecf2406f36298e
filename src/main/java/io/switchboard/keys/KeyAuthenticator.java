package io.switchboard.keys;

import io.switchboard.exchange.CallerKey;
import java.time.Clock;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Decides whether a presented secret is a live key. The order keeps the database away from bad
 * input: the shape and checksum first (no lookup at all), then configuration keys, then the cache.
 * Missing, unknown, revoked and expired all end the same way (empty) so callers cannot tell them apart.
 */
public final class KeyAuthenticator {

    private static final Logger log = LoggerFactory.getLogger(KeyAuthenticator.class);

    private final SecretHasher hasher;
    private final StaticKeys staticKeys;
    private final KeyCache cache;
    private final LastUsedRecorder lastUsed;
    private final Clock clock;

    public KeyAuthenticator(
            SecretHasher hasher, StaticKeys staticKeys, KeyCache cache, LastUsedRecorder lastUsed, Clock clock) {
        this.hasher = hasher;
        this.staticKeys = staticKeys;
        this.cache = cache;
        this.lastUsed = lastUsed;
        this.clock = clock;
    }

    /**
     * The caller behind {@code secret}; empty when it is not a live key; an error ({@link
     * KeyStoreUnavailableException}) when that cannot be known because the database does not answer.
     */
    public Mono<CallerKey> authenticate(String secret) {
        if (!ApiKeyFormat.isWellFormed(secret)) {
            return Mono.empty();
        }
        String hash = hasher.hash(secret);
        CallerKey configured = staticKeys.find(hash);
        if (configured != null) {
            return Mono.just(configured);
        }
        return cache.get(hash)
                .onErrorMap(error -> {
                    log.warn("Key lookup failed, answering 503: {}", error.toString());
                    return new KeyStoreUnavailableException(error);
                })
                .flatMap(this::admit);
    }

    private Mono<CallerKey> admit(Optional<KeyMatch> lookup) {
        if (lookup.isEmpty() || !lookup.get().admits(clock.instant())) {
            return Mono.empty();
        }
        ApiKey key = lookup.get().key();
        lastUsed.record(key.id());
        return Mono.just(key.toCaller());
    }
}
