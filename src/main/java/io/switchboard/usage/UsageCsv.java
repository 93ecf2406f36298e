package io.switchboard.usage;

import java.math.BigDecimal;
import org.jspecify.annotations.Nullable;

/**
 * One ledger row as a line of {@code export.csv} (RFC 4180). Text a spreadsheet would run as a
 * formula (a client-chosen model name starting with {@code =}, {@code +}, {@code -} or {@code @}) is
 * prefixed with a quote so finance can open the file safely.
 */
final class UsageCsv {

    static final String HEADER = "created_at,request_id,key_id,key_name,endpoint,requested_model,model,served_model,"
            + "provider,upstream_provider,generation_id,stream,status,outcome,prompt_tokens,completion_tokens,"
            + "total_tokens,cached_tokens,reasoning_tokens,estimated,cost_usd,cost_source,latency_ms,ttfb_ms,ttft_ms\r\n";

    private UsageCsv() {}

    static String line(UsageRecord r) {
        StringBuilder out = new StringBuilder(256);
        out.append(r.createdAt()).append(',');
        text(out, r.requestId());
        text(out, r.keyId());
        text(out, r.keyName());
        text(out, r.endpoint());
        text(out, r.requestedModel());
        text(out, r.model());
        text(out, r.servedModel());
        text(out, r.provider());
        text(out, r.upstreamProvider());
        text(out, r.generationId());
        out.append(r.stream()).append(',');
        out.append(r.status()).append(',');
        out.append(r.outcome().value()).append(',');
        out.append(r.promptTokens()).append(',');
        out.append(r.completionTokens()).append(',');
        out.append(r.totalTokens()).append(',');
        out.append(r.cachedTokens()).append(',');
        out.append(r.reasoningTokens()).append(',');
        out.append(r.estimated()).append(',');
        BigDecimal cost = r.costUsd();
        out.append(cost == null ? "" : cost.stripTrailingZeros().toPlainString())
                .append(',');
        text(out, r.costSource());
        out.append(r.latencyMs()).append(',');
        out.append(r.ttfbMs() == null ? "" : r.ttfbMs()).append(',');
        out.append(r.ttftMs() == null ? "" : r.ttftMs()).append("\r\n");
        return out.toString();
    }

    private static void text(StringBuilder out, @Nullable String value) {
        if (value != null && !value.isEmpty()) {
            String safe = "=+-@\t\r".indexOf(value.charAt(0)) >= 0 ? "'" + value : value;
            if (safe.indexOf(',') >= 0
                    || safe.indexOf('"') >= 0
                    || safe.indexOf('\n') >= 0
                    || safe.indexOf('\r') >= 0) {
                out.append('"').append(safe.replace("\"", "\"\"")).append('"');
            } else {
                out.append(safe);
            }
        }
        out.append(',');
    }
}
