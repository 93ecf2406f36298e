package io.switchboard.upstream;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.springframework.http.HttpHeaders;

/**
 * The upstream response headers a client may see: an allowlist, so that {@code Set-Cookie},
 * {@code X-Accel-*}, hop-by-hop headers, {@code Location} and anything else an upstream or its load
 * balancer adds never reach the client.
 */
public final class UpstreamResponseHeaders {

    /** The upstream's own request id is renamed: {@code X-Request-Id} is the gateway's. */
    public static final String UPSTREAM_REQUEST_ID = "X-Upstream-Request-Id";

    private static final Set<String> ALLOWED = Set.of(
            "content-type",
            "content-length",
            "x-generation-id",
            "openai-processing-ms",
            "openai-version",
            "openai-model",
            "retry-after",
            "retry-after-ms");

    private UpstreamResponseHeaders() {}

    /** Copies the allowed headers of {@code upstream} into {@code client}. */
    public static void copy(io.netty.handler.codec.http.HttpHeaders upstream, HttpHeaders client, boolean keepLength) {
        for (Map.Entry<String, String> header : upstream) {
            String lower = header.getKey().toLowerCase(Locale.ROOT);
            if (lower.equals("x-request-id")) {
                client.add(UPSTREAM_REQUEST_ID, header.getValue());
            } else if (lower.equals("content-length")) {
                if (keepLength) {
                    client.set(HttpHeaders.CONTENT_LENGTH, header.getValue());
                }
            } else if (ALLOWED.contains(lower) || lower.startsWith("x-ratelimit-")) {
                client.add(header.getKey(), header.getValue());
            }
        }
    }
}
