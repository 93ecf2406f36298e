package io.switchboard.keys;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.switchboard.storage.BoundedReads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Secret hash to key, found or not found, so that a request almost never waits for the database:
 * concurrent misses on one hash share a single lookup, a known-bad hash is answered from memory, and
 * an entry older than {@code refresh} is re-read in the background while the cached answer is served.
 * When that re-read fails (database down) the old answer stays until {@code maxStaleness}.
 */
public final class KeyCache {

    private final AsyncLoadingCache<String, Optional<KeyMatch>> cache;

    /**
     * @param lookup the database read for a hash; empty when no key has it
     */
    public KeyCache(KeysProperties.Cache settings, Duration lookupTimeout, Function<String, Mono<KeyMatch>> lookup) {
        this.cache = Caffeine.newBuilder()
                .maximumSize(settings.maximumSize())
                .refreshAfterWrite(settings.refresh())
                .expireAfterWrite(settings.maxStaleness())
                // Upkeep on the calling thread, not a wake-up of the common pool every few requests
                // (LocalLimitStore); the loader below never uses this executor.
                .executor(Runnable::run)
                // The read never runs inside the cache's own bookkeeping or on the caller's event
                // loop: the embedded H2 driver does its file I/O on the subscribing thread.
                // A read that timed out leaves the cache as a failed entry: the next request reads again.
                .buildAsync((hash, executor) -> BoundedReads.waitAtMost(
                        lookup.apply(hash)
                                .subscribeOn(Schedulers.boundedElastic())
                                .map(Optional::of)
                                .defaultIfEmpty(Optional.empty()),
                        lookupTimeout));
    }

    /** The key for a hash, from memory when known; fails when it must be read and the database cannot answer. */
    public Mono<Optional<KeyMatch>> get(String secretHash) {
        CompletableFuture<Optional<KeyMatch>> future = cache.get(secretHash);
        return Mono.fromFuture(future, true);
    }

    /**
     * Forgets every cached secret of a key, so its next request reads the database: after an edit,
     * rotation or revocation. Also forgets every read still under way, whatever key it is for: it may
     * have read the row before the change and would otherwise cache the old key until the refresh.
     */
    public void invalidateKey(String keyId) {
        cache.asMap().entrySet().removeIf(entry -> {
            CompletableFuture<Optional<KeyMatch>> found = entry.getValue();
            if (!found.isDone()) {
                return true;
            }
            if (found.isCompletedExceptionally()) {
                return false;
            }
            return found.join().map(match -> match.key().id().equals(keyId)).orElse(false);
        });
    }

    /**
     * Reads every cached key again in the background, the cached answers served meanwhile (and kept
     * if a read fails): after this replica's change channel was down, when announcements were lost.
     * A hash known to have no key is forgotten instead, read again only if it is asked for: a flood
     * of made-up keys fills the cache with them, and reading them all at once after a channel's
     * blip competed with real requests for the database.
     */
    public void refreshAll() {
        List<String> found = new ArrayList<>();
        List<String> absent = new ArrayList<>();
        cache.asMap().forEach((hash, answer) -> {
            boolean knownAbsent = answer.isDone()
                    && !answer.isCompletedExceptionally()
                    && answer.join().isEmpty();
            (knownAbsent ? absent : found).add(hash);
        });
        cache.synchronous().invalidateAll(absent);
        cache.synchronous().refreshAll(found);
    }

    /** Forgets one hash: a newly issued secret may have been looked up (and found absent) before it existed. */
    public void invalidateHash(String secretHash) {
        cache.synchronous().invalidate(secretHash);
    }

    public long size() {
        return cache.synchronous().estimatedSize();
    }
}
