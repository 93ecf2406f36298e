package io.switchboard.usage;

import java.math.BigDecimal;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Sums ledger rows into groups (by model, key, day or hour), with latency and time-to-first-token
 * percentiles computed here over each group's rows, since H2 has no percentile function. Rows are
 * added one at a time as the database streams them.
 */
final class UsageReport {

    enum GroupBy {
        MODEL,
        KEY,
        DAY,
        HOUR;

        static GroupBy parse(String value) {
            return valueOf(value.toUpperCase(Locale.ROOT));
        }
    }

    private static final DateTimeFormatter DAY = DateTimeFormatter.ISO_LOCAL_DATE.withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter HOUR =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:00:00'Z'").withZone(ZoneOffset.UTC);

    private final GroupBy groupBy;
    private final Map<String, Group> groups = new TreeMap<>();

    UsageReport(GroupBy groupBy) {
        this.groupBy = groupBy;
    }

    UsageReport add(UsageRecord row) {
        String key = switch (groupBy) {
            case MODEL -> row.model();
            case KEY -> row.keyId();
            case DAY -> DAY.format(row.createdAt().truncatedTo(ChronoUnit.DAYS));
            case HOUR -> HOUR.format(row.createdAt().truncatedTo(ChronoUnit.HOURS));
        };
        groups.computeIfAbsent(key, k -> new Group()).add(row);
        return this;
    }

    /** The answer of {@code GET /admin/usage}: {@code {"object":"list","data":[...]}}. */
    Map<String, Object> render() {
        List<Map<String, Object>> data = groups.entrySet().stream()
                .map(entry -> entry.getValue().render(entry.getKey(), groupBy))
                .toList();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("object", "list");
        body.put("data", data);
        return body;
    }

    private static final class Group {
        private long requests;
        private long prompt;
        private long completion;
        private long total;
        private long cached;
        private long reasoning;
        private long errors;
        private long estimated;
        private BigDecimal cost = BigDecimal.ZERO;
        private @Nullable String keyName;
        private final LongList latencies = new LongList();
        private final LongList ttfts = new LongList();

        void add(UsageRecord row) {
            requests++;
            prompt += row.promptTokens();
            completion += row.completionTokens();
            total += row.totalTokens();
            cached += row.cachedTokens();
            reasoning += row.reasoningTokens();
            if (row.outcome().failed()) {
                errors++;
            }
            if (row.estimated()) {
                estimated++;
            }
            if (row.costUsd() != null) {
                cost = cost.add(row.costUsd());
            }
            keyName = row.keyName();
            latencies.add(row.latencyMs());
            // Streams only: a non-streaming answer's first token comes with its whole answer, and
            // would read as a slow stream (the metrics' time to first token is per stream too).
            if (row.stream() && row.ttftMs() != null) {
                ttfts.add(row.ttftMs());
            }
        }

        Map<String, Object> render(String group, GroupBy groupBy) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("group", group);
            if (groupBy == GroupBy.KEY && keyName != null) {
                out.put("key_name", keyName);
            }
            out.put("requests", requests);
            out.put("prompt_tokens", prompt);
            out.put("completion_tokens", completion);
            out.put("total_tokens", total);
            out.put("cached_tokens", cached);
            out.put("reasoning_tokens", reasoning);
            out.put("cost_usd", cost.stripTrailingZeros());
            out.put("errors", errors);
            out.put("estimated", estimated);
            out.put("p50_latency_ms", latencies.percentile(50));
            out.put("p95_latency_ms", latencies.percentile(95));
            out.put("p50_ttft_ms", ttfts.percentile(50));
            out.put("p95_ttft_ms", ttfts.percentile(95));
            return out;
        }
    }

    /** A growable array of longs: a group of a million rows costs 8 MB, not a million boxed objects. */
    static final class LongList {
        private long[] values = new long[16];
        private int size;
        private boolean sorted = true;

        void add(long value) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = value;
            sorted = false;
        }

        /** Nearest-rank percentile; null when the group has no value. */
        @Nullable
        Long percentile(int p) {
            if (size == 0) {
                return null;
            }
            if (!sorted) {
                Arrays.sort(values, 0, size);
                sorted = true;
            }
            int rank = (int) Math.ceil(p / 100.0 * size);
            return values[Math.max(0, Math.min(size, rank) - 1)];
        }
    }
}
