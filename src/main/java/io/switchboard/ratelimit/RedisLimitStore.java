package io.switchboard.ratelimit;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * Limits shared by every replica through Redis. Each check-and-change is one Lua script, so it is
 * atomic across replicas (no read-then-write race that would let two replicas both take the last
 * token). Commands time out after {@code command-timeout} (Lettuce's default of 60 s would stall
 * every request while Redis hangs), and fail at once while disconnected instead of queueing.
 */
final class RedisLimitStore implements LimitStore, AutoCloseable {

    private static final String TAKE = """
            local capacity = tonumber(ARGV[1])
            local period = tonumber(ARGV[2])
            local amount = tonumber(ARGV[3])
            local force = ARGV[4] == '1'
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local state = redis.call('HMGET', KEYS[1], 'tokens', 'refill_at')
            local tokens = tonumber(state[1])
            local refill_at = tonumber(state[2])
            if tokens == nil or refill_at == nil then
              tokens = capacity
              refill_at = now + period
            elseif now >= refill_at then
              local n = math.floor((now - refill_at) / period) + 1
              tokens = math.min(capacity, tokens + n * capacity)
              refill_at = refill_at + n * period
            end
            local allowed = 0
            if force then
              tokens = math.min(capacity, tokens - amount)
              allowed = 1
            elseif tokens >= amount then
              tokens = tokens - amount
              allowed = 1
            end
            redis.call('HSET', KEYS[1], 'tokens', tokens, 'refill_at', refill_at)
            redis.call('PEXPIRE', KEYS[1], period * 2)
            local wait = refill_at - now
            local reset = 0
            if tokens < capacity then reset = wait end
            return {allowed, math.max(tokens, 0), reset, wait}
            """;

    private static final String ACQUIRE = """
            local n = redis.call('INCR', KEYS[1])
            if n > tonumber(ARGV[1]) then
              redis.call('DECR', KEYS[1])
              return 0
            end
            redis.call('PEXPIRE', KEYS[1], 3600000)
            return 1
            """;

    private static final String RELEASE = """
            local n = redis.call('DECR', KEYS[1])
            if n <= 0 then redis.call('DEL', KEYS[1]) end
            return n
            """;

    private static final String RESERVE = """
            local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
            local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
            if spent + reserved >= tonumber(ARGV[1]) then return 0 end
            redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[2])
            return 1
            """;

    private static final String SETTLE = """
            redis.call('HINCRBY', KEYS[1], 'reserved', -tonumber(ARGV[1]))
            redis.call('HINCRBY', KEYS[1], 'spent', ARGV[2])
            return 1
            """;

    // Given back after an outage: never below zero, so a release Redis had taken before it timed out
    // cannot free other requests' reservations.
    private static final String UNRESERVE = """
            local left = redis.call('HINCRBY', KEYS[1], 'reserved', -tonumber(ARGV[1]))
            if left < 0 then redis.call('HSET', KEYS[1], 'reserved', 0) end
            return 1
            """;

    private static final String RELEASE_MANY = """
            local n = redis.call('DECRBY', KEYS[1], ARGV[1])
            if n <= 0 then redis.call('DEL', KEYS[1]) end
            return n
            """;

    /**
     * The first seed of an account wins and is added to what settlements already counted; the
     * {@code seeded} marker makes every later seed (a restart, another replica) a no-op. After Redis
     * loses its data while other replicas keep settling, the next seed counts again what those
     * settled before it: the budget then refuses early, never late.
     */
    private static final String SEED = """
            if redis.call('HSETNX', KEYS[1], 'seeded', '1') == 1 then
              redis.call('HINCRBY', KEYS[1], 'spent', ARGV[1])
              return 1
            end
            return 0
            """;

    private final RedisClient client;
    private final RedisURI uri;
    private final String prefix;
    private volatile @Nullable StatefulRedisConnection<String, String> connection;

    RedisLimitStore(String url, Duration commandTimeout, String prefix) {
        this.uri = RedisURI.create(url);
        this.uri.setTimeout(commandTimeout);
        this.prefix = prefix;
        this.client = RedisClient.create();
        this.client.setOptions(ClientOptions.builder()
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .autoReconnect(true)
                .build());
    }

    /** Connects, or checks the connection answers; completes empty when Redis is usable. */
    Mono<Void> ping() {
        StatefulRedisConnection<String, String> current = connection;
        if (current == null) {
            return Mono.fromCompletionStage(() -> client.connectAsync(StringCodec.UTF8, uri))
                    .doOnNext(opened -> {
                        opened.setTimeout(uri.getTimeout());
                        connection = opened;
                    })
                    .flatMap(opened -> Mono.fromCompletionStage(opened.async().ping()))
                    .then();
        }
        return Mono.fromCompletionStage(current.async().ping()).then();
    }

    @Override
    public Mono<Take> take(String bucket, long capacity, Duration period, long amount) {
        String key = prefix + "rl:" + bucket + ":" + capacity;
        String periodMs = Long.toString(period.toMillis());
        String cap = Long.toString(capacity);
        return eval(TAKE, ScriptOutputType.MULTI, key, cap, periodMs, Long.toString(Math.min(amount, capacity)), "0")
                .map(result -> {
                    List<?> values = (List<?>) result;
                    return (Take) new RedisTake(
                            asLong(values.get(0)) == 1,
                            asLong(values.get(1)),
                            asLong(values.get(2)) * 1_000_000,
                            asLong(values.get(3)) * 1_000_000,
                            delta -> eval(TAKE, ScriptOutputType.MULTI, key, cap, periodMs, Long.toString(delta), "1")
                                    .then());
                });
    }

    /** The take script with nothing to take: it reads the bucket (refilled to now) and changes nothing else. */
    @Override
    public Mono<Take> peek(String bucket, long capacity, Duration period) {
        String key = prefix + "rl:" + bucket + ":" + capacity;
        return eval(
                        TAKE,
                        ScriptOutputType.MULTI,
                        key,
                        Long.toString(capacity),
                        Long.toString(period.toMillis()),
                        "0",
                        "0")
                .map(result -> {
                    List<?> values = (List<?>) result;
                    return (Take) new RedisTake(
                            true, asLong(values.get(1)), asLong(values.get(2)) * 1_000_000, 0, delta -> Mono.empty());
                });
    }

    private record RedisTake(
            boolean allowed,
            long remaining,
            long resetNanos,
            long retryAfterNanos,
            java.util.function.LongFunction<Mono<Void>> adjuster)
            implements Take {
        @Override
        public Mono<Void> adjust(long delta) {
            return delta == 0 ? Mono.empty() : adjuster.apply(delta);
        }
    }

    @Override
    public Mono<Slot> acquire(String slots, int max) {
        String key = prefix + "cc:" + slots;
        return eval(ACQUIRE, ScriptOutputType.INTEGER, key, Integer.toString(max))
                .map(granted -> {
                    if (asLong(granted) != 1) {
                        return Slot.REFUSED;
                    }
                    return Slot.granted(
                            () -> eval(RELEASE, ScriptOutputType.INTEGER, key).then());
                });
    }

    @Override
    public Mono<Hold> reserve(String account, long limit, long requested) {
        long amount = LimitStore.reservable(limit, requested);
        String key = prefix + "budget:" + account;
        return eval(RESERVE, ScriptOutputType.INTEGER, key, Long.toString(limit), Long.toString(amount))
                .map(granted -> {
                    if (asLong(granted) != 1) {
                        return Hold.REFUSED;
                    }
                    return Hold.granted(actual -> eval(
                                    SETTLE, ScriptOutputType.INTEGER, key, Long.toString(amount), Long.toString(actual))
                            .then());
                });
    }

    /** Gives back {@code amount} of an account's reservations whose settlement could not reach Redis. */
    Mono<Void> unreserve(String account, long amount) {
        return eval(UNRESERVE, ScriptOutputType.INTEGER, prefix + "budget:" + account, Long.toString(amount))
                .then();
    }

    /** Releases {@code count} concurrency slots whose release could not reach Redis. */
    Mono<Void> releaseSlots(String slots, long count) {
        return eval(RELEASE_MANY, ScriptOutputType.INTEGER, prefix + "cc:" + slots, Long.toString(count))
                .then();
    }

    @Override
    public Mono<Void> spend(String account, long delta) {
        return command(c -> c.async().hincrby(prefix + "budget:" + account, "spent", delta))
                .then();
    }

    @Override
    public Mono<Void> seed(String account, long spent) {
        return eval(SEED, ScriptOutputType.INTEGER, prefix + "budget:" + account, Long.toString(spent))
                .then();
    }

    private Mono<Object> eval(String script, ScriptOutputType type, String key, String... args) {
        return command(c -> c.async().eval(script, type, new String[] {key}, args));
    }

    private <T> Mono<T> command(
            java.util.function.Function<
                            StatefulRedisConnection<String, String>, java.util.concurrent.CompletionStage<T>>
                    call) {
        StatefulRedisConnection<String, String> current = connection;
        if (current == null || !current.isOpen()) {
            return Mono.error(new IllegalStateException("Redis is not connected"));
        }
        return Mono.fromCompletionStage(() -> call.apply(current));
    }

    private static long asLong(Object value) {
        return value instanceof Number number ? number.longValue() : Long.parseLong(value.toString());
    }

    /** Closes on a thread of its own: shutting the gateway down never waits on Redis. */
    @Override
    public void close() {
        Thread closer = new Thread(
                () -> client.shutdownAsync(0, 2, java.util.concurrent.TimeUnit.SECONDS), "redis-limits-close");
        closer.setDaemon(true);
        closer.start();
    }
}
