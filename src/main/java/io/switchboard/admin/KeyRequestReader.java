package io.switchboard.admin;

import io.switchboard.errors.ErrorCode;
import io.switchboard.errors.GatewayException;
import io.switchboard.exchange.Attribution;
import io.switchboard.keys.ApiKey;
import io.switchboard.keys.KeyEdit;
import io.switchboard.keys.KeyRepository;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Reads and validates the JSON of {@code POST /admin/keys}, {@code PATCH /admin/keys/{id}} and the
 * rotation. Strict: an unknown field, a negative limit, a bad glob or a past expiry is a 400 naming the
 * field, so that a typo ({@code "rmp": 60}) never silently leaves a key unlimited.
 */
final class KeyRequestReader {

    /** Model names are ids like {@code openai/gpt-5-nano} or {@code meta-llama/llama-3.1-8b:free}. */
    private static final Pattern GLOB = Pattern.compile("[A-Za-z0-9._:/@+*\\-]{1,200}");

    private static final Duration MAX_GRACE = Duration.ofDays(30);

    /** Far enough for any expiry, and storable everywhere (PostgreSQL stops at the year 294276). */
    private static final int MAX_EXPIRY_YEAR = 9999;

    private final Clock clock;

    KeyRequestReader(Clock clock) {
        this.clock = clock;
    }

    KeyEdit create(JsonNode body) {
        KeyEdit edit = read(body);
        if (!edit.fields().contains("name")) {
            throw invalid("name", "The field 'name' is required.");
        }
        return edit;
    }

    KeyEdit update(JsonNode body) {
        return read(body);
    }

    Duration grace(@Nullable JsonNode body) {
        if (body == null || body.isNull()) {
            return Duration.ZERO;
        }
        requireObject(body);
        Duration grace = Duration.ZERO;
        for (Map.Entry<String, JsonNode> field : body.properties()) {
            if (!field.getKey().equals("grace_seconds")) {
                throw unknown(field.getKey());
            }
            long seconds = nonNegativeLong("grace_seconds", field.getValue());
            grace = Duration.ofSeconds(seconds);
            if (grace.compareTo(MAX_GRACE) > 0) {
                throw invalid("grace_seconds", "'grace_seconds' may be at most " + MAX_GRACE.toSeconds() + ".");
            }
        }
        return grace;
    }

    private KeyEdit read(JsonNode body) {
        requireObject(body);
        List<String> fields = new ArrayList<>();
        List<Consumer<ApiKey.Builder>> changes = new ArrayList<>();
        Map<String, String> metadata = null;
        for (Map.Entry<String, JsonNode> field : body.properties()) {
            String name = field.getKey();
            JsonNode value = field.getValue();
            fields.add(name);
            switch (name) {
                case "name" -> {
                    String text = text(name, value, 200, false);
                    changes.add(key -> key.name(text));
                }
                case "models" -> {
                    List<String> models = models(value);
                    changes.add(key -> key.models(models));
                }
                case "rpm" -> {
                    Long rpm = value.isNull() ? null : nonNegativeLong(name, value);
                    changes.add(key -> key.rpm(rpm));
                }
                case "tpm" -> {
                    Long tpm = value.isNull() ? null : nonNegativeLong(name, value);
                    changes.add(key -> key.tpm(tpm));
                }
                case "max_concurrency" -> {
                    Long max = value.isNull() ? null : nonNegativeLong(name, value);
                    if (max != null && max > Integer.MAX_VALUE) {
                        throw invalid(name, "'max_concurrency' is too large.");
                    }
                    Integer concurrency = max == null ? null : max.intValue();
                    changes.add(key -> key.maxConcurrency(concurrency));
                }
                case "budget_usd" -> {
                    BigDecimal budget = value.isNull() ? null : budget(value);
                    changes.add(key -> key.budgetUsd(budget));
                }
                case "expires_at" -> {
                    Instant expires = value.isNull() ? null : expiry(value);
                    changes.add(key -> key.expiresAt(expires));
                }
                case "attribution" -> {
                    UnaryOperator<Attribution> attribution = attribution(value);
                    changes.add(key -> key.attribution(attribution));
                }
                case "metadata" -> metadata = metadata(value);
                default -> throw unknown(name);
            }
        }
        return new KeyEdit(fields, changes, metadata);
    }

    private static List<String> models(JsonNode value) {
        if (value.isNull()) {
            return List.of();
        }
        if (!value.isArray()) {
            throw invalid("models", "'models' must be an array of model patterns such as \"openai/*\".");
        }
        if (value.size() > 100) {
            throw invalid("models", "'models' may hold at most 100 patterns.");
        }
        List<String> models = new ArrayList<>();
        for (JsonNode item : value) {
            if (!item.isString() || !GLOB.matcher(item.asString()).matches()) {
                throw invalid(
                        "models",
                        "Each entry of 'models' must be a model id or a glob such as \"openai/*\""
                                + " (letters, digits, . _ : / @ + - and *).");
            }
            models.add(item.asString());
        }
        requireStorable(models);
        return List.copyOf(models);
    }

    /**
     * 100 patterns of 200 characters pass the checks of each pattern but not the column that holds them
     * all: refused here, as a 400, rather than by the database as a 500.
     */
    private static void requireStorable(List<String> models) {
        int stored = KeyRepository.storedModels(models).length();
        if (stored > KeyRepository.MODELS_COLUMN_LENGTH) {
            throw invalid(
                    "models",
                    "'models' is too long: " + stored + " characters as stored, at most "
                            + KeyRepository.MODELS_COLUMN_LENGTH + ".");
        }
    }

    private static long nonNegativeLong(String field, JsonNode value) {
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw invalid(field, "'" + field + "' must be a whole number.");
        }
        long number = value.asLong();
        if (number < 0) {
            throw invalid(field, "'" + field + "' must not be negative.");
        }
        return number;
    }

    private static BigDecimal budget(JsonNode value) {
        if (!value.isNumber()) {
            throw invalid("budget_usd", "'budget_usd' must be a number.");
        }
        // 1e400 is read as an infinite double, which has no decimal value.
        if (!Double.isFinite(value.doubleValue())) {
            throw invalid("budget_usd", "'budget_usd' allows 12 digits and 6 decimals at most.");
        }
        BigDecimal budget = value.decimalValue();
        if (budget.signum() < 0) {
            throw invalid("budget_usd", "'budget_usd' must not be negative.");
        }
        // Jackson reads 0.000001 through a double as 1.0E-6, scale 7: count the decimals that matter.
        if (budget.stripTrailingZeros().scale() > 6 || budget.precision() - budget.scale() > 12) {
            throw invalid("budget_usd", "'budget_usd' allows 12 digits and 6 decimals at most.");
        }
        return budget;
    }

    private Instant expiry(JsonNode value) {
        if (!value.isString()) {
            throw invalid("expires_at", "'expires_at' must be an ISO-8601 time such as \"2027-01-01T00:00:00Z\".");
        }
        Instant at;
        try {
            at = OffsetDateTime.parse(value.asString()).toInstant();
        } catch (DateTimeParseException e) {
            throw invalid("expires_at", "'expires_at' must be an ISO-8601 time such as \"2027-01-01T00:00:00Z\".");
        }
        if (!at.isAfter(clock.instant())) {
            throw invalid("expires_at", "'expires_at' must be in the future.");
        }
        if (at.atOffset(ZoneOffset.UTC).getYear() > MAX_EXPIRY_YEAR) {
            throw invalid("expires_at", "'expires_at' must be before the year " + (MAX_EXPIRY_YEAR + 1) + ".");
        }
        return at;
    }

    /**
     * As JSON Merge Patch (RFC 7396) treats a nested object: the fields named are set ({@code null}
     * clears one), the others keep their value; {@code "attribution": null} clears them all. So
     * {@code PATCH {"attribution":{"title":"B"}}} keeps the key's referer.
     */
    private static UnaryOperator<Attribution> attribution(JsonNode value) {
        if (value.isNull()) {
            return old -> Attribution.NONE;
        }
        if (!value.isObject()) {
            throw invalid("attribution", "'attribution' must be an object with referer, title, categories.");
        }
        Map<String, String> given = new HashMap<>();
        for (Map.Entry<String, JsonNode> field : value.properties()) {
            String name = "attribution." + field.getKey();
            JsonNode text = field.getValue();
            switch (field.getKey()) {
                case "referer" -> given.put("referer", text.isNull() ? null : text(name, text, 500, true));
                case "title" -> given.put("title", text.isNull() ? null : text(name, text, 200, true));
                case "categories" -> given.put("categories", text.isNull() ? null : text(name, text, 200, true));
                default -> throw unknown(name);
            }
        }
        return old -> new Attribution(
                given.containsKey("referer") ? given.get("referer") : old.referer(),
                given.containsKey("title") ? given.get("title") : old.title(),
                given.containsKey("categories") ? given.get("categories") : old.categories());
    }

    private static Map<String, String> metadata(JsonNode value) {
        if (value.isNull()) {
            return Map.of();
        }
        if (!value.isObject()) {
            throw invalid("metadata", "'metadata' must be an object of string values.");
        }
        if (value.size() > 50) {
            throw invalid("metadata", "'metadata' may hold at most 50 labels.");
        }
        Map<String, String> labels = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : value.properties()) {
            String name = field.getKey();
            if (name.isEmpty() || name.length() > 100) {
                throw invalid("metadata", "Label names in 'metadata' must be 1 to 100 characters.");
            }
            // As values are: PostgreSQL refuses a NUL in text, and a line break has no place in a name.
            if (!isPrintable(name, false)) {
                throw invalid("metadata", "Label names in 'metadata' must hold printable characters only.");
            }
            labels.put(name, text("metadata." + name, field.getValue(), 1000, false));
        }
        return labels;
    }

    /**
     * A string of printable characters (no control characters: attribution values become upstream
     * headers, where a line break would inject one).
     */
    private static String text(String field, JsonNode value, int maxLength, boolean headerSafe) {
        if (!value.isString()) {
            throw invalid(field, "'" + field + "' must be a string.");
        }
        String text = value.asString().strip();
        if (text.isEmpty() || text.length() > maxLength) {
            throw invalid(field, "'" + field + "' must be 1 to " + maxLength + " characters.");
        }
        if (!isPrintable(text, headerSafe)) {
            throw invalid(
                    field, "'" + field + "' must hold printable " + (headerSafe ? "ASCII " : "") + "characters only.");
        }
        return text;
    }

    /** No control characters, and only ASCII when {@code asciiOnly} (an attribution's header value). */
    private static boolean isPrintable(String text, boolean asciiOnly) {
        if (asciiOnly) {
            return Attribution.isHeaderSafe(text);
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    private static void requireObject(JsonNode body) {
        if (!body.isObject()) {
            throw GatewayException.of(ErrorCode.INVALID_REQUEST, "The request body must be a JSON object.");
        }
    }

    private static GatewayException unknown(String field) {
        return invalid(field, "Unknown field '" + printable(field) + "'.");
    }

    private static GatewayException invalid(String field, String message) {
        return GatewayException.of(ErrorCode.INVALID_REQUEST, message, printable(field));
    }

    private static String printable(String text) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), 80));
        for (int i = 0; i < text.length() && out.length() < 80; i++) {
            char c = text.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return out.toString();
    }
}
