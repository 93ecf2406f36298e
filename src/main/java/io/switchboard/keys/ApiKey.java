package io.switchboard.keys;

import io.switchboard.exchange.Attribution;
import io.switchboard.exchange.CallerKey;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A stored key, without its secret (which is never stored) and without its metadata (loaded only by
 * the admin API). The id is stable for the key's life, rotations included.
 */
public record ApiKey(
        String id,
        String name,
        String displayPrefix,
        Instant createdAt,
        Instant updatedAt,
        @Nullable Instant expiresAt,
        @Nullable Instant revokedAt,
        @Nullable Instant lastUsedAt,
        List<String> models,
        @Nullable Long rpm,
        @Nullable Long tpm,
        @Nullable Integer maxConcurrency,
        @Nullable BigDecimal budgetUsd,
        Attribution attribution) {

    public ApiKey {
        models = List.copyOf(models);
    }

    public enum Status {
        ACTIVE,
        EXPIRED,
        REVOKED
    }

    public Status status(Instant now) {
        if (revokedAt != null) {
            return Status.REVOKED;
        }
        if (expiresAt != null && !now.isBefore(expiresAt)) {
            return Status.EXPIRED;
        }
        return Status.ACTIVE;
    }

    public CallerKey toCaller() {
        return new CallerKey(id, name, models, rpm, tpm, maxConcurrency, budgetUsd, attribution);
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A copy with some fields changed: how edits are applied. */
    public static final class Builder {
        private final String id;
        private final String displayPrefix;
        private final Instant createdAt;
        private final @Nullable Instant lastUsedAt;
        private String name;
        private Instant updatedAt;
        private @Nullable Instant expiresAt;
        private @Nullable Instant revokedAt;
        private List<String> models;
        private @Nullable Long rpm;
        private @Nullable Long tpm;
        private @Nullable Integer maxConcurrency;
        private @Nullable BigDecimal budgetUsd;
        private Attribution attribution;

        private Builder(ApiKey key) {
            id = key.id;
            displayPrefix = key.displayPrefix;
            createdAt = key.createdAt;
            lastUsedAt = key.lastUsedAt;
            name = key.name;
            updatedAt = key.updatedAt;
            expiresAt = key.expiresAt;
            revokedAt = key.revokedAt;
            models = key.models;
            rpm = key.rpm;
            tpm = key.tpm;
            maxConcurrency = key.maxConcurrency;
            budgetUsd = key.budgetUsd;
            attribution = key.attribution;
        }

        public Builder name(String value) {
            name = value;
            return this;
        }

        public Builder updatedAt(Instant value) {
            updatedAt = value;
            return this;
        }

        public Builder expiresAt(@Nullable Instant value) {
            expiresAt = value;
            return this;
        }

        public Builder revokedAt(@Nullable Instant value) {
            revokedAt = value;
            return this;
        }

        public Builder models(List<String> value) {
            models = value;
            return this;
        }

        public Builder rpm(@Nullable Long value) {
            rpm = value;
            return this;
        }

        public Builder tpm(@Nullable Long value) {
            tpm = value;
            return this;
        }

        public Builder maxConcurrency(@Nullable Integer value) {
            maxConcurrency = value;
            return this;
        }

        public Builder budgetUsd(@Nullable BigDecimal value) {
            budgetUsd = value;
            return this;
        }

        public Builder attribution(Attribution value) {
            attribution = value;
            return this;
        }

        /** Changes the attribution from what it is now (a partial edit keeps the fields it does not name). */
        public Builder attribution(java.util.function.UnaryOperator<Attribution> change) {
            attribution = change.apply(attribution);
            return this;
        }

        public ApiKey build() {
            return new ApiKey(
                    id,
                    name,
                    displayPrefix,
                    createdAt,
                    updatedAt,
                    expiresAt,
                    revokedAt,
                    lastUsedAt,
                    models,
                    rpm,
                    tpm,
                    maxConcurrency,
                    budgetUsd,
                    attribution);
        }
    }
}
