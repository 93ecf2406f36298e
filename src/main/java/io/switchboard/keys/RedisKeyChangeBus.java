package io.switchboard.keys;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Key changes over Redis pub/sub: each replica subscribes to one channel and drops the named key from
 * its cache, so a revocation reaches every replica in milliseconds. A lost message (Redis down) is
 * covered by the cache's background refresh. Commands time out after {@code timeout}, never Lettuce's
 * default minute.
 */
public final class RedisKeyChangeBus implements KeyChangeBus, AutoCloseable {

    static final String CHANNEL = "switchboard:keys:changed";

    private static final Logger log = LoggerFactory.getLogger(RedisKeyChangeBus.class);

    private final KeyCache cache;
    private final RedisClient client;
    private final RedisURI uri;
    private final Duration timeout;
    private final AtomicReference<StatefulRedisConnection<String, String>> publisher = new AtomicReference<>();
    private final Disposable subscription;
    private volatile boolean listening;
    private final AtomicBoolean subscribedBefore = new AtomicBoolean();

    public RedisKeyChangeBus(KeyCache cache, String redisUrl, Duration timeout) {
        this.cache = cache;
        RedisURI uri = RedisURI.create(redisUrl);
        uri.setTimeout(timeout);
        this.client = RedisClient.create(uri);
        client.setOptions(ClientOptions.builder()
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .autoReconnect(true)
                .build());
        this.uri = uri;
        this.timeout = timeout;
        this.subscription = Mono.fromCompletionStage(() -> client.connectPubSubAsync(StringCodec.UTF8, uri))
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200))
                        .maxBackoff(Duration.ofSeconds(5))
                        .doBeforeRetry(signal -> log.warn(
                                "Key change channel: Redis not reachable, retrying ({})",
                                signal.failure().toString())))
                .flatMapMany(this::listen)
                .subscribe(cache::invalidateKey, error -> log.error("Key change channel stopped", error));
    }

    private Flux<String> listen(StatefulRedisPubSubConnection<String, String> connection) {
        // Lettuce subscribes again by itself after a reconnect; changes announced while the
        // connection was down were lost, so every cached key is read again then.
        connection.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void subscribed(String channel, long count) {
                // The first subscription too: a replica that started while Redis was down served
                // (and cached) keys before it, and changes announced meanwhile were lost.
                if (CHANNEL.equals(channel)) {
                    if (subscribedBefore.getAndSet(true)) {
                        log.info("Key change channel: subscribed again on Redis, reading every cached key again");
                    }
                    cache.refreshAll();
                }
            }
        });
        // Observe first, then subscribe, so no message falls between the two.
        Flux<String> messages = connection.reactive().observeChannels().map(message -> message.getMessage());
        Mono<String> subscribed = connection.reactive().subscribe(CHANNEL).then(Mono.fromRunnable(() -> {
            listening = true;
            log.info("Listening for key changes on Redis channel {}", CHANNEL);
        }));
        return messages.mergeWith(subscribed);
    }

    @Override
    public Mono<Void> announce(String keyId) {
        Mono<Long> publish =
                publisher().flatMap(connection -> connection.reactive().publish(CHANNEL, keyId));
        return KeyChangeBus.dropAndPublish(cache, keyId, publish, timeout.multipliedBy(2), "Redis");
    }

    /** The connection announcements go out on, opened on first use and again after it closed. */
    private Mono<StatefulRedisConnection<String, String>> publisher() {
        StatefulRedisConnection<String, String> current = publisher.get();
        if (current != null && current.isOpen()) {
            return Mono.just(current);
        }
        return Mono.fromCompletionStage(() -> client.connectAsync(StringCodec.UTF8, uri))
                .map(opened -> {
                    if (publisher.compareAndSet(current, opened)) {
                        return opened;
                    }
                    opened.closeAsync();
                    return publisher.get();
                });
    }

    /** Whether this replica receives other replicas' changes right now. */
    public boolean listening() {
        return listening;
    }

    @Override
    public void close() {
        subscription.dispose();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
}
