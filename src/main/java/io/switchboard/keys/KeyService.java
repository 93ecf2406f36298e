package io.switchboard.keys;

import io.switchboard.exchange.Attribution;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Issues, edits, rotates and revokes keys. Every change is written to the database first, then
 * announced so that this replica drops its cached copy at once and the others within a second.
 */
public final class KeyService {

    private static final String ID_PREFIX = "key_";

    private final KeyRepository repository;
    private final SecretHasher hasher;
    private final KeyCache cache;
    private final KeyChangeBus changes;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public KeyService(
            KeyRepository repository, SecretHasher hasher, KeyCache cache, KeyChangeBus changes, Clock clock) {
        this.repository = repository;
        this.hasher = hasher;
        this.cache = cache;
        this.changes = changes;
        this.clock = clock;
    }

    /** A key with its secret: the only time the secret exists outside the caller's hands. */
    public record Issued(ApiKey key, String secret) {
        @Override
        public String toString() {
            return "Issued[" + key.id() + "]";
        }
    }

    public Mono<Issued> create(KeyEdit edit) {
        return fresh(() -> new IdAndSecret(
                        ID_PREFIX + ApiKeyFormat.randomBase62(random, 16, 22), ApiKeyFormat.generate(random)))
                .flatMap(fresh -> create(edit, fresh.id(), fresh.secret()));
    }

    private Mono<Issued> create(KeyEdit edit, String id, String secret) {
        Instant now = now();
        ApiKey blank = new ApiKey(
                id,
                "",
                ApiKeyFormat.displayPrefix(secret),
                now,
                now,
                null,
                null,
                null,
                List.of(),
                null,
                null,
                null,
                null,
                Attribution.NONE);
        ApiKey key = edit.applyTo(blank);
        String hash = hasher.hash(secret);
        return repository
                .insert(key, hash, edit.metadata() == null ? Map.of() : edit.metadata())
                .then(Mono.fromRunnable(() -> cache.invalidateHash(hash)))
                .thenReturn(new Issued(key, secret));
    }

    public Mono<ApiKey> find(String id) {
        return repository.findById(id);
    }

    /** Applies an edit; empty when no key has this id. */
    public Mono<ApiKey> update(String id, KeyEdit edit) {
        return repository.findById(id).flatMap(existing -> {
            ApiKey changed = edit.applyTo(existing).toBuilder().updatedAt(now()).build();
            return repository
                    .update(changed, edit.metadata())
                    .then(changes.announce(id))
                    .thenReturn(changed);
        });
    }

    /** Revokes a key; revoking it again changes nothing (the first revocation time stays). */
    public Mono<ApiKey> revoke(String id) {
        return repository.findById(id).flatMap(existing -> {
            if (existing.revokedAt() != null) {
                return changes.announce(id).thenReturn(existing);
            }
            Instant now = now();
            return repository
                    .revoke(id, now)
                    .then(changes.announce(id))
                    // Revoked here, or a moment ago by another admin: the stored time is the first one.
                    .then(repository.findById(id));
        });
    }

    /**
     * A new secret for the same key (same id, limits and history). The old secret keeps working for
     * {@code grace}, so that deployments can roll over without an outage.
     */
    public Mono<Issued> rotate(String id, Duration grace) {
        return repository
                .findById(id)
                .zipWith(fresh(() -> ApiKeyFormat.generate(random)))
                .flatMap(found -> {
                    String secret = found.getT2();
                    Instant now = now();
                    String hash = hasher.hash(secret);
                    return repository
                            .rotate(id, hash, ApiKeyFormat.displayPrefix(secret), now, now.plus(grace))
                            .then(Mono.fromRunnable(() -> cache.invalidateHash(hash)))
                            .then(changes.announce(id))
                            .then(repository.findById(id))
                            .map(updated -> new Issued(updated, secret));
                });
    }

    /**
     * Randomness off the event loop: {@link SecureRandom} may read the operating system's entropy
     * source, a blocking file read.
     */
    private static <T> Mono<T> fresh(Supplier<T> random) {
        return Mono.fromSupplier(random).subscribeOn(Schedulers.boundedElastic());
    }

    private record IdAndSecret(String id, String secret) {
        @Override
        public String toString() {
            return "IdAndSecret[" + id + "]";
        }
    }

    private Instant now() {
        // Stored with microsecond precision at most (PostgreSQL): truncate so what is returned equals what is read
        // back.
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }
}
