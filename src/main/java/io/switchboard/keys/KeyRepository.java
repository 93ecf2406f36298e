package io.switchboard.keys;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.r2dbc.spi.Readable;
import io.switchboard.exchange.Attribution;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.DatabaseClient.GenericExecuteSpec;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The key tables, through R2DBC with bound parameters only (a key lookup built from a header by string
 * concatenation was LiteLLM's SQL injection). Never on the request path except for a key the cache
 * has not seen.
 */
public final class KeyRepository {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final TypeReference<List<String>> STRING_LIST = new TypeReference<>() {};

    /** The size of {@code api_keys.models} (V1__api_keys.sql), which holds a key's patterns as a JSON array. */
    public static final int MODELS_COLUMN_LENGTH = 4000;

    private static final String COLUMNS = "k.id, k.name, k.display_prefix, k.created_at, k.updated_at, k.expires_at,"
            + " k.revoked_at, k.last_used_at, k.models, k.rpm, k.tpm, k.max_concurrency, k.budget_usd,"
            + " k.attribution_referer, k.attribution_title, k.attribution_categories";

    private final DatabaseClient db;
    private final TransactionalOperator tx;
    private final Counter lookupsFound;
    private final Counter lookupsAbsent;

    public KeyRepository(DatabaseClient db, TransactionalOperator tx, MeterRegistry meters) {
        this.db = db;
        this.tx = tx;
        this.lookupsFound = Counter.builder("gateway.keys.lookups")
                .description("Key lookups that reached the database (cache misses and refreshes)")
                .tag("result", "found")
                .register(meters);
        this.lookupsAbsent = Counter.builder("gateway.keys.lookups")
                .description("Key lookups that reached the database (cache misses and refreshes)")
                .tag("result", "absent")
                .register(meters);
    }

    /** The key a secret's hash belongs to; empty when none does. */
    public Mono<KeyMatch> findBySecretHash(String secretHash) {
        // Two plain reads rather than a join: both tables have an expires_at column, and drivers
        // disagree on which one an alias names.
        return db.sql("SELECT key_id, expires_at FROM api_key_secrets WHERE secret_hash = :hash")
                .bind("hash", secretHash)
                .map(row -> new SecretRow(row.get("key_id", String.class), instant(row, "expires_at")))
                .one()
                .flatMap(secret -> findById(secret.keyId()).map(key -> new KeyMatch(key, secret.expiresAt())))
                .doOnNext(found -> lookupsFound.increment())
                .switchIfEmpty(Mono.fromRunnable(lookupsAbsent::increment));
    }

    private record SecretRow(String keyId, @Nullable Instant expiresAt) {}

    /** A key's model patterns as {@code api_keys.models} stores them. */
    public static String storedModels(List<String> models) {
        return JSON.writeValueAsString(models);
    }

    public Mono<ApiKey> findById(String id) {
        return offLoop(db.sql("SELECT " + COLUMNS + " FROM api_keys k WHERE k.id = :id")
                .bind("id", id)
                .map(KeyRepository::toKey)
                .one());
    }

    /**
     * Locks the key's row until the caller's transaction ends, then reads the key: an edit made from
     * this read starts from the latest committed key, and no other edit of the key can commit in
     * between (two admins editing different fields at once would otherwise each write the other's
     * field back as it was). Only inside {@link #inOneTransaction}; empty when no key has this id.
     */
    public Mono<ApiKey> findLocked(String id) {
        // A lock first, the read second: under READ COMMITTED the read, a statement of its own, sees what
        // the edit that held the lock before committed (H2 and PostgreSQL both).
        Mono<Long> lock = db.sql("SELECT id FROM api_keys WHERE id = :id FOR UPDATE")
                .bind("id", id)
                .map(row -> 1L)
                .all()
                .count();
        return offLoop(lock.then(findById(id)));
    }

    public Mono<Void> insert(ApiKey key, String secretHash, Map<String, String> metadata) {
        Mono<Long> row = bindKey(
                        db.sql("INSERT INTO api_keys (id, name, display_prefix, created_at, updated_at, expires_at,"
                                + " revoked_at, last_used_at, models, rpm, tpm, max_concurrency, budget_usd,"
                                + " attribution_referer, attribution_title, attribution_categories)"
                                + " VALUES (:id, :name, :display_prefix, :created_at, :updated_at, :expires_at,"
                                + " :revoked_at, :last_used_at, :models, :rpm, :tpm, :max_concurrency, :budget_usd,"
                                + " :attribution_referer, :attribution_title, :attribution_categories)"),
                        key)
                .bind("display_prefix", key.displayPrefix())
                .bind("created_at", time(key.createdAt()))
                .fetch()
                .rowsUpdated();
        Mono<Long> secret = insertSecret(key.id(), secretHash, key.createdAt());
        return offLoop(tx.transactional(row.then(secret).then(writeMetadata(key.id(), metadata))));
    }

    /**
     * Writes every editable column of {@code key}; {@code metadata} replaces the old one unless null.
     * Never {@code revoked_at} nor {@code last_used_at}: an edit that read the key before a concurrent
     * revocation (or a last-use flush) must not write the old value back and bring a revoked key back.
     */
    public Mono<Void> update(ApiKey key, @Nullable Map<String, String> metadata) {
        Mono<Long> row = bindEditable(
                        db.sql("UPDATE api_keys SET name = :name, updated_at = :updated_at, expires_at = :expires_at,"
                                + " models = :models,"
                                + " rpm = :rpm, tpm = :tpm, max_concurrency = :max_concurrency,"
                                + " budget_usd = :budget_usd, attribution_referer = :attribution_referer,"
                                + " attribution_title = :attribution_title,"
                                + " attribution_categories = :attribution_categories WHERE id = :id"),
                        key)
                .fetch()
                .rowsUpdated();
        Mono<Void> meta = metadata == null ? Mono.empty() : writeMetadata(key.id(), metadata);
        return offLoop(tx.transactional(row.then(meta)));
    }

    /** Revokes a key at {@code at}; false when it was already revoked (the first time stays). */
    public Mono<Boolean> revoke(String keyId, Instant at) {
        return offLoop(db.sql("UPDATE api_keys SET revoked_at = :at, updated_at = :at"
                                + " WHERE id = :id AND revoked_at IS NULL")
                        .bind("id", keyId)
                        .bind("at", time(at))
                        .fetch()
                        .rowsUpdated())
                .map(updated -> updated > 0);
    }

    /**
     * Adds a new secret to a key that is not revoked (false when it is, or is gone). Every older secret stops at {@code oldSecretsUntil} (now, when there is
     * no grace period), and secrets already past their end are deleted. Rotations of one key run one
     * after the other: each first takes the key row's lock (by writing the new prefix), so its statements
     * on the secrets see the secret the rotation before it added. Without it two rotations at once each
     * ended only the secrets they could see, and both new secrets stayed valid for good.
     */
    public Mono<Boolean> rotate(
            String keyId, String newSecretHash, String displayPrefix, Instant now, Instant oldSecretsUntil) {
        // First in the transaction: the row's lock, held until the commit, orders rotations of one key,
        // and a revocation committed before it leaves nothing to rotate (false).
        Mono<Long> lockAndRelabel = db.sql("UPDATE api_keys SET updated_at = :now, display_prefix = :prefix"
                        + " WHERE id = :id AND revoked_at IS NULL")
                .bind("id", keyId)
                .bind("prefix", displayPrefix)
                .bind("now", time(now))
                .fetch()
                .rowsUpdated();
        Mono<Long> dropExpired = db.sql(
                        "DELETE FROM api_key_secrets WHERE key_id = :id AND expires_at IS NOT NULL AND expires_at <= :now")
                .bind("id", keyId)
                .bind("now", time(now))
                .fetch()
                .rowsUpdated();
        Mono<Long> endOld;
        if (!oldSecretsUntil.isAfter(now)) {
            endOld = db.sql("DELETE FROM api_key_secrets WHERE key_id = :id")
                    .bind("id", keyId)
                    .fetch()
                    .rowsUpdated();
        } else {
            endOld = db.sql("UPDATE api_key_secrets SET expires_at = :until"
                            + " WHERE key_id = :id AND (expires_at IS NULL OR expires_at > :until)")
                    .bind("id", keyId)
                    .bind("until", time(oldSecretsUntil))
                    .fetch()
                    .rowsUpdated();
        }
        return tx.transactional(lockAndRelabel.flatMap(locked -> locked == 0
                ? Mono.just(false)
                : dropExpired
                        .then(endOld)
                        .then(insertSecret(keyId, newSecretHash, now))
                        .thenReturn(true)));
    }

    /** Sets {@code last_used_at} of many keys in one statement. */
    public Mono<Long> touch(Collection<String> keyIds, Instant at) {
        if (keyIds.isEmpty()) {
            return Mono.just(0L);
        }
        return offLoop(db.sql("UPDATE api_keys SET last_used_at = :at WHERE id IN (:ids)")
                .bind("at", time(at))
                .bind("ids", List.copyOf(keyIds))
                .fetch()
                .rowsUpdated());
    }

    /**
     * One page of keys, newest first.
     *
     * @param nameContains case-insensitive part of the name, or null
     * @param metadata labels every returned key carries
     */
    public Mono<KeyPage> list(@Nullable String nameContains, Map<String, String> metadata, int limit, long offset) {
        StringBuilder where = new StringBuilder(" WHERE 1 = 1");
        Map<String, Object> params = new LinkedHashMap<>();
        if (nameContains != null && !nameContains.isEmpty()) {
            where.append(" AND LOWER(k.name) LIKE :name ESCAPE '!'");
            params.put("name", "%" + likeEscape(nameContains.toLowerCase(java.util.Locale.ROOT)) + "%");
        }
        int i = 0;
        for (Map.Entry<String, String> label : metadata.entrySet()) {
            where.append(" AND EXISTS (SELECT 1 FROM api_key_metadata m WHERE m.key_id = k.id AND m.meta_name = :mn")
                    .append(i)
                    .append(" AND m.meta_value = :mv")
                    .append(i)
                    .append(')');
            params.put("mn" + i, label.getKey());
            params.put("mv" + i, label.getValue());
            i++;
        }
        GenericExecuteSpec count = db.sql("SELECT COUNT(*) AS total FROM api_keys k" + where);
        GenericExecuteSpec page = db.sql("SELECT " + COLUMNS + " FROM api_keys k" + where
                + " ORDER BY k.created_at DESC, k.id LIMIT :limit OFFSET :offset");
        for (Map.Entry<String, Object> param : params.entrySet()) {
            count = count.bind(param.getKey(), param.getValue());
            page = page.bind(param.getKey(), param.getValue());
        }
        Mono<Long> total = count.map(row -> row.get("total", Long.class)).one();
        Mono<List<ApiKey>> keys = page.bind("limit", limit)
                .bind("offset", offset)
                .map(KeyRepository::toKey)
                .all()
                .collectList();
        return offLoop(Mono.zip(total, keys, KeyPage::new));
    }

    /** The metadata of each key in {@code keyIds}; a key without labels has no entry. */
    public Mono<Map<String, Map<String, String>>> metadata(Collection<String> keyIds) {
        if (keyIds.isEmpty()) {
            return Mono.just(Map.of());
        }
        return db.sql("SELECT key_id, meta_name, meta_value FROM api_key_metadata WHERE key_id IN (:ids)"
                        + " ORDER BY key_id, meta_name")
                .bind("ids", List.copyOf(keyIds))
                .map(row -> new String[] {
                    row.get("key_id", String.class),
                    row.get("meta_name", String.class),
                    row.get("meta_value", String.class)
                })
                .all()
                .subscribeOn(Schedulers.boundedElastic())
                .collect(
                        LinkedHashMap::new,
                        (Map<String, Map<String, String>> all, String[] r) -> all.computeIfAbsent(
                                        r[0], id -> new LinkedHashMap<>())
                                .put(r[1], r[2]));
    }

    /**
     * Statements run off the event loop: the embedded H2 driver does file I/O and waits for row locks
     * on the subscribing thread, which must never be a Netty event loop. A cheap hop for PostgreSQL,
     * and only on the admin path and background writes (the request path reads through the cache).
     */
    /**
     * Runs {@code work} (this repository's statements and any other on the same database, such as the
     * admin audit row) in one transaction: all of it is stored, or none.
     */
    public <T> Mono<T> inOneTransaction(Mono<T> work) {
        return offLoop(tx.transactional(work));
    }

    private static <T> Mono<T> offLoop(Mono<T> statement) {
        return statement.subscribeOn(Schedulers.boundedElastic());
    }

    private Mono<Long> insertSecret(String keyId, String secretHash, Instant at) {
        return db.sql("INSERT INTO api_key_secrets (secret_hash, key_id, created_at) VALUES (:hash, :id, :at)")
                .bind("hash", secretHash)
                .bind("id", keyId)
                .bind("at", time(at))
                .fetch()
                .rowsUpdated();
    }

    private Mono<Void> writeMetadata(String keyId, Map<String, String> metadata) {
        Mono<Long> clear = db.sql("DELETE FROM api_key_metadata WHERE key_id = :id")
                .bind("id", keyId)
                .fetch()
                .rowsUpdated();
        List<Mono<Long>> inserts = new ArrayList<>();
        metadata.forEach((name, value) ->
                inserts.add(db.sql("INSERT INTO api_key_metadata (key_id, meta_name, meta_value) VALUES (:id, :n, :v)")
                        .bind("id", keyId)
                        .bind("n", name)
                        .bind("v", value)
                        .fetch()
                        .rowsUpdated()));
        return clear.thenMany(Flux.concat(inserts)).then();
    }

    private static GenericExecuteSpec bindKey(GenericExecuteSpec spec, ApiKey key) {
        spec = nullable(spec, "revoked_at", time(key.revokedAt()), OffsetDateTime.class);
        spec = nullable(spec, "last_used_at", time(key.lastUsedAt()), OffsetDateTime.class);
        return bindEditable(spec, key);
    }

    /** The columns an edit writes (not {@code revoked_at}, {@code last_used_at}, the secret or its prefix). */
    private static GenericExecuteSpec bindEditable(GenericExecuteSpec spec, ApiKey key) {
        spec = spec.bind("id", key.id())
                .bind("name", key.name())
                .bind("updated_at", time(key.updatedAt()))
                .bind("models", storedModels(key.models()));
        spec = nullable(spec, "expires_at", time(key.expiresAt()), OffsetDateTime.class);
        spec = nullable(spec, "rpm", key.rpm(), Long.class);
        spec = nullable(spec, "tpm", key.tpm(), Long.class);
        spec = nullable(spec, "max_concurrency", key.maxConcurrency(), Integer.class);
        spec = nullable(spec, "budget_usd", key.budgetUsd(), BigDecimal.class);
        spec = nullable(spec, "attribution_referer", key.attribution().referer(), String.class);
        spec = nullable(spec, "attribution_title", key.attribution().title(), String.class);
        return nullable(spec, "attribution_categories", key.attribution().categories(), String.class);
    }

    private static GenericExecuteSpec nullable(
            GenericExecuteSpec spec, String name, @Nullable Object value, Class<?> type) {
        return value == null ? spec.bindNull(name, type) : spec.bind(name, value);
    }

    private static ApiKey toKey(Readable row) {
        return new ApiKey(
                row.get("id", String.class),
                row.get("name", String.class),
                row.get("display_prefix", String.class),
                instant(row, "created_at"),
                instant(row, "updated_at"),
                instant(row, "expires_at"),
                instant(row, "revoked_at"),
                instant(row, "last_used_at"),
                JSON.readValue(row.get("models", String.class), STRING_LIST),
                row.get("rpm", Long.class),
                row.get("tpm", Long.class),
                row.get("max_concurrency", Integer.class),
                row.get("budget_usd", BigDecimal.class),
                new Attribution(
                        row.get("attribution_referer", String.class),
                        row.get("attribution_title", String.class),
                        row.get("attribution_categories", String.class)));
    }

    private static @Nullable Instant instant(Readable row, String column) {
        OffsetDateTime value = row.get(column, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    private static @Nullable OffsetDateTime time(@Nullable Instant instant) {
        return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
    }

    private static String likeEscape(String text) {
        return text.replace("!", "!!").replace("%", "!%").replace("_", "!_");
    }

    /** A page of keys and the number of keys matching the filter. */
    public record KeyPage(long total, List<ApiKey> keys) {}
}
