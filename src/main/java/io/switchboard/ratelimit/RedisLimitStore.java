package io.switchboard.ratelimit;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Limits shared by every replica through Redis. Each check-and-change is one Lua script, so it is
 * atomic across replicas (no read-then-write race that would let two replicas both take the last
 * token). Commands time out after {@code command-timeout} (Lettuce's default of 60 s would stall
 * every request while Redis hangs), and fail at once while disconnected instead of queueing.
 *
 * <p>A concurrency slot and a budget reservation each leave a token in Redis by which it is given
 * back, exactly once: a timed-out acquire that Redis ran after all, a release sent twice or replayed
 * after an outage, all come out right. Each lapses on its own ({@link #SLOT_TTL}, {@link #HOLD_TTL}):
 * a replica that dies (killed, out of memory) never gives back what it held, and its slots and
 * reservations once stayed taken in Redis for good.
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
            elseif tokens > capacity then
              -- The key's limit was lowered: what is left, at most the new size.
              tokens = capacity
            end
            local allowed = 0
            if force then
              tokens = math.min(capacity, tokens - amount)
              allowed = 1
            elseif tokens >= amount then
              tokens = tokens - amount
              allowed = 1
            end
            -- In debt (usage past its reservation), whole periods more pass before the bucket has
            -- enough again, or is full: the waits count them, and the bucket is kept until then.
            local debt = 0
            if tokens < 0 then debt = math.ceil(-tokens / capacity) end
            redis.call('HSET', KEYS[1], 'tokens', tokens, 'refill_at', refill_at)
            redis.call('PEXPIRE', KEYS[1], period * (2 + debt))
            local wait = refill_at - now
            local reset = 0
            if tokens < capacity then reset = wait + (math.ceil((capacity - tokens) / capacity) - 1) * period end
            local retry = wait
            if allowed == 0 then retry = wait + (math.ceil((amount - tokens) / capacity) - 1) * period end
            return {allowed, math.max(tokens, 0), reset, retry}
            """;

    /** Redis's clock in milliseconds, for the scripts that expire what they hold. */
    private static final String NOW = """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            """;

    /**
     * Takes a slot if fewer than ARGV[1] are held: its token ARGV[2] joins the set KEYS[1], scored
     * with when it lapses (ARGV[3] ms on). A slot is given back once, by its token, whatever asks
     * for it and however often; one whose replica died without giving it back lapses, where a
     * counter kept it taken for as long as the key was used.
     */
    private static final String ACQUIRE = NOW + """
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
            if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
            redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
            redis.call('PEXPIRE', KEYS[1], ARGV[3])
            return 1
            """;

    /** Gives back the slot of the token ARGV[1], if it was taken and not given back yet. */
    private static final String RELEASE = """
            return redis.call('ZREM', KEYS[1], ARGV[1])
            """;

    /**
     * Gives back the reservation of the hold ARGV[1] of the budget KEYS[1] (its amount in the field
     * {@code hold:<token>}, its token in the set KEYS[2]), if still held. The reservation goes back
     * as the hold's own text: a Lua number goes to Redis before 7.2 as %.17g ("-0", "-2.3e+18"),
     * which HINCRBY refuses, and a script is not rolled back.
     */
    private static final String GIVE_BACK = """
            local function give_back(token)
              local field = 'hold:' .. token
              local held = redis.call('HGET', KEYS[1], field)
              redis.call('ZREM', KEYS[2], token)
              if not held then return false end
              redis.call('HDEL', KEYS[1], field)
              if held ~= '0' then
                local left = redis.call('HINCRBY', KEYS[1], 'reserved', '-' .. held)
                if left < 0 then redis.call('HSET', KEYS[1], 'reserved', 0) end
              end
              return true
            end
            """;

    /**
     * Reserves ARGV[2] of the budget KEYS[1] as the hold ARGV[4], lapsing ARGV[5] ms on; -1, with
     * nothing reserved, when ARGV[3] = 1 and the marker KEYS[3] that the budgets were seeded is gone:
     * Redis lost its data (a restart without persistence, a fail-over to an empty replica), and with
     * it every key's spend. Holds that lapsed (their replica died before settling them) are given
     * back first, a hundred at a time: they held part of the budget for good.
     */
    private static final String RESERVE = NOW + GIVE_BACK + """
            if ARGV[3] == '1' and redis.call('EXISTS', KEYS[3]) == 0 then return -1 end
            for _, lapsed in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
              give_back(lapsed)
            end
            local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
            local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
            if spent + reserved >= tonumber(ARGV[1]) then return 0 end
            redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[2])
            redis.call('HSET', KEYS[1], 'hold:' .. ARGV[4], ARGV[2])
            redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[4])
            return 1
            """;

    /**
     * Gives back the reservation of the hold ARGV[3] of the budget KEYS[1] (KEYS[2] its set of holds)
     * if it is still held (once, however often this runs for it) and adds ARGV[1] to what was spent. A replay (ARGV[2] = 1: a settlement whose
     * answer was lost, written again when Redis answers) adds nothing once the hold is gone, since
     * the first run most likely took it: counting it twice would refuse the key early. A first
     * settlement whose hold is gone (lapsed after a day, or lost with Redis's data) still counts: a budget may refuse early, never late.
     */
    private static final String SETTLE = GIVE_BACK + """
            if not give_back(ARGV[3]) and ARGV[2] == '1' then return 0 end
            redis.call('HINCRBY', KEYS[1], 'spent', ARGV[1])
            return 1
            """;

    /** Adds ARGV[1] to what was spent unless the marker KEYS[2] says it was added already (a day). */
    private static final String SPEND_ONCE = """
            if redis.call('SET', KEYS[2], '1', 'NX', 'PX', 86400000) then
              redis.call('HINCRBY', KEYS[1], 'spent', ARGV[1])
              return 1
            end
            return 0
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

    /** Under the key prefix: the marker that the budgets' past spend was seeded into this Redis. */
    private static final String SEEDED_MARKER = "budgets-seeded";

    private final RedisClient client;
    private final RedisURI uri;
    private final String prefix;
    /** The marker's key, built once: every budgeted reservation names it. */
    private final String seededMarker;

    private volatile boolean markerSet;
    private volatile @Nullable Runnable spendLost;
    /** Slot tokens are this process's random prefix and a count: unique across replicas. */
    private final String tokenPrefix =
            Long.toHexString(ThreadLocalRandom.current().nextLong()) + ":";

    private final AtomicLong tokens = new AtomicLong();
    /** Slots whose release could not reach Redis (token to counter): given back when it answers. */
    private final ConcurrentHashMap<String, String> unreleased = new ConcurrentHashMap<>();
    /** Holds whose settlement could not reach Redis (by token): settled when it answers. */
    private final ConcurrentHashMap<String, Unsettled> unsettled = new ConcurrentHashMap<>();

    /** A settlement kept for when Redis answers: the hold's budget and what was spent. */
    private record Unsettled(String key, long actual) {}

    /** Once-per-row spend that could not reach Redis (by row): written once, however many replicas kept it. */
    private final ConcurrentHashMap<String, Unspent> unspent = new ConcurrentHashMap<>();

    private record Unspent(String account, long delta) {}

    /** Rows kept by id at most; past it the caller keeps their spend as a plain sum. */
    private static final int MAX_UNSPENT = 100_000;

    private volatile @Nullable StatefulRedisConnection<String, String> connection;

    /** How long a slot counts if never given back: a stream longer than this stops counting. */
    static final Duration SLOT_TTL = Duration.ofHours(1);

    /** How long a reservation counts if never settled; a day, as a settlement is replayed for a day. */
    static final Duration HOLD_TTL = Duration.ofDays(1);

    private final String slotTtlMillis;
    private final String holdTtlMillis;

    RedisLimitStore(String url, Duration commandTimeout, String prefix) {
        this(url, commandTimeout, prefix, SLOT_TTL, HOLD_TTL);
    }

    /** With the lapse times of slots and holds given (the tests' are short). */
    RedisLimitStore(String url, Duration commandTimeout, String prefix, Duration slotTtl, Duration holdTtl) {
        this.slotTtlMillis = Long.toString(slotTtl.toMillis());
        this.holdTtlMillis = Long.toString(holdTtl.toMillis());
        this.uri = RedisURI.create(url);
        this.uri.setTimeout(commandTimeout);
        this.prefix = prefix;
        this.seededMarker = prefix + SEEDED_MARKER;
        this.client = RedisClient.create();
        this.client.setOptions(ClientOptions.builder()
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .autoReconnect(true)
                .build());
    }

    /**
     * As {@link #ping}, on a new connection whatever the state of the current one: the last write at
     * stop. A connection through which Redis went silent can still count as open, and a ping on it
     * only times out.
     */
    Mono<Void> pingOnANewConnection() {
        return Mono.defer(() -> {
            StatefulRedisConnection<String, String> old = connection;
            connection = null;
            if (old != null) {
                old.closeAsync();
            }
            return ping();
        });
    }

    /** Connects, or checks the connection answers; completes empty when Redis is usable. */
    Mono<Void> ping() {
        StatefulRedisConnection<String, String> current = connection;
        if (current == null || !current.isOpen()) {
            // A connection an outage dropped waits for its own reconnect, which backs off to
            // seconds apart: a new one answers as soon as Redis does (the probe, the last write at
            // stop). The dropped one is closed once the new one is in place.
            return Mono.fromCompletionStage(() -> client.connectAsync(StringCodec.UTF8, uri))
                    .doOnNext(opened -> {
                        opened.setTimeout(uri.getTimeout());
                        connection = opened;
                        if (current != null) {
                            current.closeAsync();
                        }
                    })
                    .flatMap(opened -> Mono.fromCompletionStage(opened.async().ping()))
                    .then();
        }
        return Mono.fromCompletionStage(current.async().ping()).then();
    }

    @Override
    public Mono<Take> take(String bucket, long capacity, Duration period, long amount) {
        String key = prefix + "rl:" + bucket;
        String periodMs = Long.toString(period.toMillis());
        String cap = Long.toString(capacity);
        long taken = Math.min(amount, capacity);
        java.util.function.LongFunction<Mono<Void>> adjuster =
                delta -> eval(TAKE, ScriptOutputType.MULTI, key, cap, periodMs, Long.toString(delta), "1")
                        .then();
        return awaited(TAKE, ScriptOutputType.MULTI, new String[] {key}, cap, periodMs, Long.toString(taken), "0")
                .map(result -> {
                    List<?> values = (List<?>) result;
                    return (Take) new RedisTake(
                            asLong(values.get(0)) == 1,
                            asLong(values.get(1)),
                            asLong(values.get(2)) * 1_000_000,
                            asLong(values.get(3)) * 1_000_000,
                            adjuster);
                })
                // An answer that came after its caller left (a client that disconnected while Redis
                // ran the take) is dropped unseen: what it took is given back, or the key's bucket
                // stayed short until its refill.
                .doOnDiscard(List.class, answer -> {
                    if (asLong(answer.get(0)) == 1) {
                        adjuster.apply(-taken).subscribe(null, error -> {});
                    }
                });
    }

    /** The take script with nothing to take: it reads the bucket (refilled to now) and changes nothing else. */
    @Override
    public Mono<Take> peek(String bucket, long capacity, Duration period) {
        String key = prefix + "rl:" + bucket;
        return awaited(
                        TAKE,
                        ScriptOutputType.MULTI,
                        new String[] {key},
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

    /**
     * Takes a slot. Redis may still run an acquire the caller stopped waiting for (its timeout, a
     * client that left, a reply lost with the connection); the acquire is then given back by its
     * token, which undoes it if Redis ran it and does nothing if not (a connection runs its
     * commands in order). A counter alone could not tell, and kept such a slot taken for an hour.
     */
    @Override
    public Mono<Slot> acquire(String slots, int max) {
        // Not "cc:", the counter's key before slots lapsed: an old counter there has another type.
        String key = prefix + "slots:" + slots;
        String token = newToken();
        return undoneIfUnanswered(
                awaited(
                        ACQUIRE,
                        ScriptOutputType.INTEGER,
                        new String[] {key},
                        Integer.toString(max),
                        token,
                        slotTtlMillis),
                granted -> asLong(granted) == 1 ? new RedisSlot(this, key, token) : Slot.REFUSED,
                () -> giveBack(unreleased, token, key, release(key, token)));
    }

    /** Reserves part of a budget; like {@link #acquire}, given back by its token when unanswered. */
    @Override
    public Mono<Hold> reserve(String account, long limit, long requested) {
        long amount = LimitStore.reservable(limit, requested);
        String key = prefix + "budget:" + account;
        String token = newToken();
        return undoneIfUnanswered(
                awaited(
                        RESERVE,
                        ScriptOutputType.INTEGER,
                        new String[] {key, holdsOf(key), seededMarker},
                        Long.toString(limit),
                        Long.toString(amount),
                        markerSet ? "1" : "0",
                        token,
                        holdTtlMillis),
                answer -> held(answer, key, token),
                () -> giveBack(unsettled, token, new Unsettled(key, 0), settle(key, token, 0)));
    }

    private Hold held(Object answer, String key, String token) {
        long granted = asLong(answer);
        if (granted == -1) {
            Runnable listener = spendLost;
            if (listener != null) {
                listener.run();
            }
            return Hold.UNAVAILABLE;
        }
        return granted == 1 ? new RedisHold(this, key, token) : Hold.REFUSED;
    }

    /**
     * Leaves the marker that every key's past spend is in Redis (once the ledger's spend is seeded),
     * so that a reservation notices when Redis has lost it.
     */
    @Override
    public Mono<Void> markSeeded() {
        return command(c -> c.async().set(seededMarker, "1"), false)
                .doOnSuccess(ok -> markerSet = true)
                .then();
    }

    @Override
    public void onSpendLost(Runnable listener) {
        this.spendLost = listener;
    }

    private String newToken() {
        return tokenPrefix + tokens.incrementAndGet();
    }

    /** The set of a budget's holds, named by the budget's account as its hash is. */
    private String holdsOf(String budgetKey) {
        return prefix + "holds:" + budgetKey.substring(prefix.length() + "budget:".length());
    }

    /** {@code call}'s answer as {@code answer} says; {@code undo} when it fails or is given up unanswered. */
    private static <T> Mono<T> undoneIfUnanswered(
            Mono<Object> call, java.util.function.Function<Object, T> answer, Runnable undo) {
        return Mono.defer(() -> {
            AtomicBoolean answered = new AtomicBoolean();
            return call.map(result -> {
                        answered.set(true);
                        return answer.apply(result);
                    })
                    .doOnError(error -> undo.run())
                    .doOnCancel(() -> {
                        if (!answered.get()) {
                            undo.run();
                        }
                    });
        });
    }

    /** A slot taken in Redis, given back by its token. */
    record RedisSlot(RedisLimitStore store, String key, String token) implements Slot {
        @Override
        public boolean granted() {
            return true;
        }

        @Override
        public Mono<Void> release() {
            return store.release(key, token);
        }
    }

    /** A reservation held in Redis, given back by its token when it settles. */
    record RedisHold(RedisLimitStore store, String key, String token) implements Hold {
        @Override
        public boolean granted() {
            return true;
        }

        @Override
        public Mono<Void> settle(long actual) {
            return store.settle(key, token, actual);
        }
    }

    private Mono<Void> release(String key, String token) {
        return eval(RELEASE, ScriptOutputType.INTEGER, new String[] {key}, token)
                .then();
    }

    private Mono<Void> settle(String key, String token, long actual) {
        return settle(key, token, actual, false);
    }

    private Mono<Void> settle(String key, String token, long actual, boolean replay) {
        return eval(
                        SETTLE,
                        ScriptOutputType.INTEGER,
                        new String[] {key, holdsOf(key)},
                        Long.toString(actual),
                        replay ? "1" : "0",
                        token)
                .then();
    }

    /** Runs {@code undo} now, or keeps the token in {@code kept} for when Redis answers again. */
    private static <V> void giveBack(Map<String, V> kept, String token, V value, Mono<Void> undo) {
        undo.subscribe(null, error -> kept.put(token, value));
    }

    /** Keeps a slot's release that could not reach Redis, for {@link #giveBackKept}. */
    void keep(RedisSlot slot) {
        unreleased.put(slot.token(), slot.key());
    }

    /**
     * Keeps a hold's settlement that got no answer from Redis, for {@link #giveBackKept}: replayed by
     * its token, it counts {@code actual} once whether or not Redis ran it the first time.
     */
    void keep(RedisHold hold, long actual) {
        unsettled.put(hold.token(), new Unsettled(hold.key(), actual));
    }

    /**
     * Keeps a row's once-only spend that could not reach Redis, for {@link #giveBackKept}; false when
     * too many are kept already.
     */
    boolean keepSpendOnce(String account, long delta, String once) {
        if (unspent.size() >= MAX_UNSPENT) {
            return false;
        }
        unspent.put(once, new Unspent(account, delta));
        return true;
    }

    boolean hasKept() {
        return !unreleased.isEmpty() || !unsettled.isEmpty() || !unspent.isEmpty();
    }

    /** Writes what was kept while Redis was unreachable (slots, settlements, row spend); what fails is kept again. */
    Mono<Void> giveBackKept() {
        return replay(unreleased, this::release)
                .then(replay(unsettled, (kept, token) -> settle(kept.key(), token, kept.actual(), true)))
                .then(replay(unspent, (kept, once) -> spendOnce(kept.account(), kept.delta(), once)));
    }

    private static <V> Mono<Void> replay(
            ConcurrentHashMap<String, V> kept, java.util.function.BiFunction<V, String, Mono<Void>> undo) {
        return Flux.fromIterable(List.copyOf(kept.entrySet()))
                .concatMap(entry -> kept.remove(entry.getKey(), entry.getValue())
                        ? undo.apply(entry.getValue(), entry.getKey())
                                .doOnError(error -> kept.put(entry.getKey(), entry.getValue()))
                        : Mono.empty())
                .then();
    }

    @Override
    public Mono<Void> spend(String account, long delta) {
        return command(c -> c.async().hincrby(prefix + "budget:" + account, "spent", delta), false)
                .then();
    }

    @Override
    public Mono<Void> spendOnce(String account, long delta, String once) {
        return eval(
                        SPEND_ONCE,
                        ScriptOutputType.INTEGER,
                        new String[] {prefix + "budget:" + account, prefix + "spent-once:" + once},
                        Long.toString(delta))
                .then();
    }

    @Override
    public Mono<Void> seed(String account, long spent) {
        return eval(SEED, ScriptOutputType.INTEGER, prefix + "budget:" + account, Long.toString(spent))
                .then();
    }

    private Mono<Object> eval(String script, ScriptOutputType type, String key, String... args) {
        return eval(script, type, new String[] {key}, args);
    }

    private Mono<Object> eval(String script, ScriptOutputType type, String[] keys, String... args) {
        return command(c -> c.async().eval(script, type, keys, args), false);
    }

    /** A script whose answer a request waits for: the answer comes back on the request's event loop. */
    private Mono<Object> awaited(String script, ScriptOutputType type, String[] keys, String... args) {
        return command(c -> c.async().eval(script, type, keys, args), true);
    }

    private <T> Mono<T> command(
            java.util.function.Function<
                            StatefulRedisConnection<String, String>, java.util.concurrent.CompletionStage<T>>
                    call,
            boolean answerOnCallersLoop) {
        StatefulRedisConnection<String, String> current = connection;
        if (current == null || !current.isOpen()) {
            return Mono.error(new IllegalStateException("Redis is not connected"));
        }
        // An awaited answer is not cancelled with its caller: a command once sent runs in Redis
        // anyway, and its answer, dropped unseen, goes to the discard hooks (see take) instead of
        // being lost with a cancelled future.
        return answerOnCallersLoop
                ? Mono.fromFuture(() -> onCallersLoop(call.apply(current)).toCompletableFuture(), true)
                : Mono.fromCompletionStage(() -> call.apply(current));
    }

    /**
     * Lettuce completes every command on its own I/O thread, one per connection. Without this hop
     * the rest of each request's filters and its proxying would run there: every request of the
     * replica through one thread, beside the event loops meant to share them. The answer is handed
     * back to the event loop that sent the command (the one serving the request), or run where it
     * arrives when the command was sent from elsewhere or that loop no longer takes work.
     */
    private static <T> CompletionStage<T> onCallersLoop(CompletionStage<T> sent) {
        EventExecutor caller = ThreadExecutorMap.currentExecutor();
        if (caller == null) {
            return sent;
        }
        return sent.whenCompleteAsync(NOTHING, task -> {
            try {
                caller.execute(task);
            } catch (RejectedExecutionException shuttingDown) {
                task.run();
            }
        });
    }

    private static final BiConsumer<Object, Throwable> NOTHING = (value, error) -> {};

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
