package io.switchboard.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.switchboard.keys.ApiKey;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A key as the admin API shows it. {@code key} (the secret) is present only in the answer to creation
 * and rotation; every other answer leaves it out.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
record KeyView(
        String id,
        @JsonInclude(JsonInclude.Include.NON_NULL) @Nullable String key,
        String name,
        String prefix,
        String status,
        List<String> models,
        @Nullable Long rpm,
        @Nullable Long tpm,
        @JsonProperty("max_concurrency") @Nullable Integer maxConcurrency,
        @JsonProperty("budget_usd") @Nullable BigDecimal budgetUsd,
        AttributionView attribution,
        Map<String, String> metadata,
        @JsonProperty("created_at") String createdAt,
        @JsonProperty("updated_at") String updatedAt,
        @JsonProperty("expires_at") @Nullable String expiresAt,
        @JsonProperty("revoked_at") @Nullable String revokedAt,
        @JsonProperty("last_used_at") @Nullable String lastUsedAt) {

    @JsonInclude(JsonInclude.Include.ALWAYS)
    record AttributionView(
            @Nullable String referer,
            @Nullable String title,
            @Nullable String categories) {}

    static KeyView of(ApiKey key, Map<String, String> metadata, @Nullable String secret, Instant now) {
        return new KeyView(
                key.id(),
                secret,
                key.name(),
                key.displayPrefix() + "...",
                key.status(now).name().toLowerCase(Locale.ROOT),
                key.models(),
                key.rpm(),
                key.tpm(),
                key.maxConcurrency(),
                key.budgetUsd(),
                new AttributionView(
                        key.attribution().referer(),
                        key.attribution().title(),
                        key.attribution().categories()),
                metadata,
                key.createdAt().toString(),
                key.updatedAt().toString(),
                text(key.expiresAt()),
                text(key.revokedAt()),
                text(key.lastUsedAt()));
    }

    private static @Nullable String text(@Nullable Instant instant) {
        return instant == null ? null : instant.toString();
    }

    /** Never prints the secret. */
    @Override
    public String toString() {
        return "KeyView[" + id + "]";
    }
}
