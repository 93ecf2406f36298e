package io.switchboard.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

/** The {@code admin_audit} table: one row per admin action, never a secret. */
final class AuditLog {

    private final DatabaseClient db;
    private final Clock clock;

    AuditLog(DatabaseClient db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    /**
     * @param detail short, secret-free JSON about the action (e.g. the names of the changed fields)
     */
    Mono<Void> record(String actor, String action, @Nullable String keyId, @Nullable String detail) {
        DatabaseClient.GenericExecuteSpec spec = db.sql(
                        "INSERT INTO admin_audit (occurred_at, actor, action, key_id, detail)"
                                + " VALUES (:at, :actor, :action, :key_id, :detail)")
                .bind("at", OffsetDateTime.now(clock).withOffsetSameInstant(ZoneOffset.UTC))
                .bind("actor", actor)
                .bind("action", action);
        spec = keyId == null ? spec.bindNull("key_id", String.class) : spec.bind("key_id", keyId);
        spec = detail == null ? spec.bindNull("detail", String.class) : spec.bind("detail", detail);
        return spec.fetch().rowsUpdated().then();
    }

    /** Newest first. */
    Mono<List<Entry>> list(@Nullable String keyId, int limit, long offset) {
        String where = keyId == null ? "" : " WHERE key_id = :key_id";
        DatabaseClient.GenericExecuteSpec spec = db.sql("SELECT id, occurred_at, actor, action, key_id, detail"
                        + " FROM admin_audit" + where + " ORDER BY id DESC LIMIT :limit OFFSET :offset")
                .bind("limit", limit)
                .bind("offset", offset);
        if (keyId != null) {
            spec = spec.bind("key_id", keyId);
        }
        return spec.map(row -> new Entry(
                        row.get("id", Long.class),
                        row.get("occurred_at", OffsetDateTime.class).toInstant().toString(),
                        row.get("actor", String.class),
                        row.get("action", String.class),
                        row.get("key_id", String.class),
                        row.get("detail", String.class)))
                .all()
                .collectList();
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    record Entry(
            long id,
            String at,
            String actor,
            String action,
            @JsonProperty("key_id") @Nullable String keyId,
            @Nullable String detail) {}
}
