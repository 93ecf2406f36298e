package io.switchboard.keys;

import io.r2dbc.postgresql.api.Notification;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.postgresql.api.PostgresqlResult;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Wrapped;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Key changes over PostgreSQL's {@code LISTEN}/{@code NOTIFY}, for replicas that share a PostgreSQL
 * database but no Redis: each replica keeps one connection of its own (outside the pool) listening on
 * a channel and drops the named key from its cache, so a revocation reaches every replica in
 * milliseconds. A change is announced with {@code pg_notify} through the pool. A notification sent
 * while a replica's listening connection is down is lost, as with Redis; the cache's background
 * refresh covers it.
 */
public final class PostgresKeyChangeBus implements KeyChangeBus, AutoCloseable {

    static final String CHANNEL = "switchboard_keys_changed";

    private static final Logger log = LoggerFactory.getLogger(PostgresKeyChangeBus.class);

    private final KeyCache cache;
    private final DatabaseClient db;
    private final Duration timeout;
    private final Disposable subscription;
    private volatile boolean listening;

    /**
     * @param connections the application's connection factory: its pool is unwrapped, so the
     *     listening connection never takes a pooled connection for the life of the process
     * @param db announcements, through the pool
     * @param timeout the longest an announcement may take before the admin action goes on without it
     */
    public PostgresKeyChangeBus(KeyCache cache, ConnectionFactory connections, DatabaseClient db, Duration timeout) {
        this.cache = cache;
        this.db = db;
        this.timeout = timeout;
        ConnectionFactory direct = unpooled(connections);
        this.subscription = Flux.usingWhen(
                        Mono.from(direct.create()).map(PostgresKeyChangeBus::postgres),
                        this::listen,
                        connection -> Mono.from(connection.close()).onErrorResume(error -> Mono.empty()))
                // The backoff starts again from its first step once a notification arrived.
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200))
                        .maxBackoff(Duration.ofSeconds(5))
                        .transientErrors(true)
                        .doBeforeRetry(signal -> log.warn(
                                "Key change channel: PostgreSQL listener lost, connecting again ({})",
                                signal.failure().toString())))
                .subscribe(cache::invalidateKey, error -> log.error("Key change channel stopped", error));
    }

    private Flux<String> listen(PostgresqlConnection connection) {
        // Notifications are observed before LISTEN is sent, so none falls between the two. Once the
        // connection closes the stream fails, so that the retry connects again.
        Flux<String> keyIds = connection
                .getNotifications()
                .mapNotNull(Notification::getParameter)
                .concatWith(Mono.error(() -> new IllegalStateException("listening connection closed")));
        Mono<String> listened = connection
                .createStatement("LISTEN " + CHANNEL)
                .execute()
                .flatMap(PostgresqlResult::getRowsUpdated)
                .then(Mono.fromRunnable(() -> {
                    listening = true;
                    log.info("Listening for key changes on PostgreSQL channel {}", CHANNEL);
                    // Changes announced while the connection was down (or before the first LISTEN,
                    // while this replica already served keys) were lost: read every key again.
                    cache.refreshAll();
                }));
        return keyIds.mergeWith(listened).doFinally(signal -> listening = false);
    }

    @Override
    public Mono<Void> announce(String keyId) {
        Mono<Void> notify = db.sql("SELECT pg_notify('" + CHANNEL + "', :keyId)")
                .bind("keyId", keyId)
                .then();
        return KeyChangeBus.dropAndPublish(cache, keyId, notify, timeout, "PostgreSQL");
    }

    /** Whether this replica receives other replicas' changes right now. */
    public boolean listening() {
        return listening;
    }

    @Override
    public void close() {
        subscription.dispose();
    }

    /** The factory under a pool (r2dbc-pool wraps the driver's), else {@code connections} itself. */
    private static ConnectionFactory unpooled(ConnectionFactory connections) {
        if (connections instanceof Wrapped<?> wrapped && wrapped.unwrap() instanceof ConnectionFactory inner) {
            return unpooled(inner);
        }
        return connections;
    }

    private static PostgresqlConnection postgres(Connection connection) {
        if (connection instanceof PostgresqlConnection postgres) {
            return postgres;
        }
        if (connection instanceof Wrapped<?> wrapped && wrapped.unwrap() instanceof Connection inner) {
            return postgres(inner);
        }
        throw new IllegalStateException(
                "not a PostgreSQL connection: " + connection.getClass().getName());
    }
}
