package io.switchboard.keys;

import io.switchboard.exchange.Timeouts;
import java.time.Duration;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Tells every replica that a key changed (edit, rotation, revocation) so each drops its cached copy.
 * The replica that made the change drops its own copy at once, before answering the admin.
 */
public interface KeyChangeBus {

    /** Drops the key here and announces it to the other replicas; never fails the admin action. */
    Mono<Void> announce(String keyId);

    /** A single replica, or replicas sharing neither Redis nor PostgreSQL: others see the change within the cache's refresh time. */
    static KeyChangeBus local(KeyCache cache) {
        return keyId -> Mono.fromRunnable(() -> cache.invalidateKey(keyId));
    }

    /**
     * What every bus does: drops the key here, then {@code publish}es it to the others within
     * {@code timeout}; a failed or late announcement is logged, never the admin action's error (the
     * others' caches then read the key again within their refresh time).
     */
    static Mono<Void> dropAndPublish(KeyCache cache, String keyId, Mono<?> publish, Duration timeout, String over) {
        return Mono.fromRunnable(() -> cache.invalidateKey(keyId))
                .then(Timeouts.within(publish, timeout))
                .onErrorResume(error -> {
                    LoggerFactory.getLogger(KeyChangeBus.class)
                            .warn(
                                    "Could not announce a key change over {}; other replicas see it within the cache refresh time: {}",
                                    over,
                                    error.toString());
                    return Mono.empty();
                })
                .then();
    }
}
