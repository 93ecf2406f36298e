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
 * Issues, edits, rotates and revokes keys. Every change is written to the database together with its
 * audit row, in one transaction (a change the audit trail cannot record is not made, as with Vault's
 * audit devices; and a key whose audit row failed is not left issued with a secret nobody received),
 * then announced after the commit so that this replica drops its cached copy at once and the others,
 * which read the database again, within a second.
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

    /**
     * The audit row of a change, written in the change's own transaction: it is given the key as the
     * change leaves it.
     */
    @FunctionalInterface
    public interface Audit {
        Mono<Void> record(ApiKey key);

        /** No audit row (tests of the service alone). */
        Audit NONE = key -> Mono.empty();
    }

    public Mono<Issued> create(KeyEdit edit, Audit audit) {
        return fresh(() -> new IdAndSecret(
                        ID_PREFIX + ApiKeyFormat.randomBase62(random, 16, 22), ApiKeyFormat.generate(random)))
                .flatMap(fresh -> create(edit, fresh.id(), fresh.secret(), audit));
    }

    private Mono<Issued> create(KeyEdit edit, String id, String secret, Audit audit) {
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
                .inOneTransaction(repository
                        .insert(key, hash, edit.metadata() == null ? Map.of() : edit.metadata())
                        .then(audit.record(key)))
                .then(Mono.fromRunnable(() -> cache.invalidateHash(hash)))
                .thenReturn(new Issued(key, secret));
    }

    public Mono<ApiKey> find(String id) {
        return repository.findById(id);
    }

    /**
     * Applies an edit to the key as it is now (read under the row's lock, so that a concurrent edit of
     * another field is kept); empty when no key has this id.
     */
    public Mono<ApiKey> update(String id, KeyEdit edit, Audit audit) {
        return repository
                .inOneTransaction(repository.findLocked(id).flatMap(existing -> {
                    ApiKey changed =
                            edit.applyTo(existing).toBuilder().updatedAt(now()).build();
                    return repository
                            .update(changed, edit.metadata())
                            .then(audit.record(changed))
                            .thenReturn(changed);
                }))
                .flatMap(changed -> changes.announce(id).thenReturn(changed));
    }

    /**
     * Revokes a key; revoking it again changes nothing (the first revocation time stays), but is
     * audited and announced again (a replica that missed the first announcement hears this one).
     */
    public Mono<ApiKey> revoke(String id, Audit audit) {
        return repository
                .inOneTransaction(repository.findById(id).flatMap(existing -> {
                    Mono<ApiKey> revoked = existing.revokedAt() != null
                            ? Mono.just(existing)
                            // Revoked here, or a moment ago by another admin: the stored time is the first one.
                            : repository.revoke(id, now()).then(repository.findById(id));
                    return revoked.flatMap(key -> audit.record(key).thenReturn(key));
                }))
                .flatMap(key -> changes.announce(id).thenReturn(key));
    }

    /**
     * A new secret for the same key (same id, limits and history). The old secret keeps working for
     * {@code grace}, so that deployments can roll over without an outage. Fails with
     * {@link KeyRevokedException} when the key is revoked, even by a revocation committed a moment ago.
     */
    public Mono<Issued> rotate(String id, Duration grace, Audit audit) {
        return fresh(() -> ApiKeyFormat.generate(random)).flatMap(secret -> {
            String hash = hasher.hash(secret);
            return repository
                    .inOneTransaction(repository.findById(id).flatMap(found -> {
                        Instant now = now();
                        return repository
                                .rotate(id, hash, ApiKeyFormat.displayPrefix(secret), now, now.plus(grace))
                                .flatMap(rotated -> rotated
                                        ? repository.findById(id)
                                        // Revoked since the caller looked: no secret for a revoked key.
                                        : Mono.error(new KeyRevokedException(id)))
                                .flatMap(updated -> audit.record(updated).thenReturn(updated));
                    }))
                    .flatMap(updated -> Mono.fromRunnable(() -> cache.invalidateHash(hash))
                            .then(changes.announce(id))
                            .thenReturn(new Issued(updated, secret)));
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
