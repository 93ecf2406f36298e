package io.switchboard.keys;

import reactor.core.publisher.Mono;

/**
 * Tells every replica that a key changed (edit, rotation, revocation) so each drops its cached copy.
 * The replica that made the change drops its own copy at once, before answering the admin.
 */
public interface KeyChangeBus {

    /** Drops the key here and announces it to the other replicas; never fails the admin action. */
    Mono<Void> announce(String keyId);

    /** A single replica, or replicas without Redis: others see the change within the cache's refresh time. */
    static KeyChangeBus local(KeyCache cache) {
        return keyId -> Mono.fromRunnable(() -> cache.invalidateKey(keyId));
    }
}
