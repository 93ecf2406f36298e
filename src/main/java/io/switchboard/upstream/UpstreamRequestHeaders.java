package io.switchboard.upstream;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.switchboard.exchange.Attribution;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpHeaders;

/**
 * Builds the headers sent upstream from the client's: the client's credential, cookies, hop-by-hop
 * and forwarding headers are dropped; the provider's credential and the attribution are set. A
 * denylist, not an allowlist, because SDKs send headers of their own (such as {@code X-Stainless-*})
 * that upstreams use and that carry no secret.
 */
public final class UpstreamRequestHeaders {

    public static final String HTTP_REFERER = "HTTP-Referer";
    public static final String X_TITLE = "X-Title";
    public static final String X_OPENROUTER_TITLE = "X-OpenRouter-Title";
    public static final String X_OPENROUTER_CATEGORIES = "X-OpenRouter-Categories";

    /** Lower-case names never forwarded (RFC 9110 section 7.6.1 hop-by-hop, credentials, forwarding). */
    private static final Set<String> DROPPED = Set.of(
            "authorization",
            "proxy-authorization",
            "proxy-authenticate",
            "proxy-connection",
            "cookie",
            "connection",
            "keep-alive",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
            "host",
            "content-length",
            "expect",
            "forwarded",
            "x-real-ip",
            // The same claims under other names (a client's address, the path it "originally" asked
            // for), which some servers behind the upstream trust: never the client's to make.
            "x-client-ip",
            "true-client-ip",
            "x-original-url",
            "x-rewrite-url",
            "via",
            "accept-encoding",
            "content-encoding",
            "api-key",
            "x-api-key",
            // Which organization and project the credential bills (OpenAI's SDKs send them from
            // OPENAI_ORG_ID / OPENAI_PROJECT_ID): the company's credential's scope, not the client's.
            "openai-organization",
            "openai-project",
            "x-request-id",
            "http-referer",
            "referer",
            "x-title",
            "x-openrouter-title",
            "x-openrouter-categories",
            "origin");

    private final AttributionProperties gatewayAttribution;

    public UpstreamRequestHeaders(AttributionProperties gatewayAttribution) {
        this.gatewayAttribution = gatewayAttribution;
    }

    /**
     * Copies what may be forwarded from {@code client} into {@code upstream}, then sets the
     * provider's credential and attribution.
     *
     * @param keyAttribution the calling key's own attribution: each value it sets replaces the gateway's
     */
    public void write(
            HttpHeaders client,
            io.netty.handler.codec.http.HttpHeaders upstream,
            Provider provider,
            Attribution keyAttribution,
            String requestId,
            long contentLength) {
        Set<String> connectionTokens = connectionTokens(client);
        // Through the underlying map (Netty's own headers on the server): HttpHeaders.forEach first
        // builds a case-insensitive set of every name and then looks each one up again, per request.
        client.asMultiValueMap().forEach((name, values) -> {
            String lower = name.toLowerCase(Locale.ROOT);
            if (DROPPED.contains(lower)
                    || lower.startsWith("proxy-")
                    || lower.startsWith("x-forwarded-")
                    || lower.startsWith("sec-")
                    || connectionTokens.contains(lower)) {
                return;
            }
            upstream.set(name, values);
        });
        upstream.set(HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderValues.IDENTITY);
        upstream.set("X-Request-Id", requestId);
        if (contentLength >= 0) {
            upstream.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
            upstream.set(HttpHeaderNames.CONTENT_LENGTH, contentLength);
        }
        if (!provider.authorization().isEmpty()) {
            upstream.set(HttpHeaderNames.AUTHORIZATION, provider.authorization());
        }
        writeAttribution(client, upstream, keyAttribution);
    }

    private void writeAttribution(
            HttpHeaders client, io.netty.handler.codec.http.HttpHeaders upstream, Attribution keyAttribution) {
        // Field by field: the key's own value, else the gateway's. A key that sets only its referer
        // keeps the gateway's title (replacing the whole set left the title to the client).
        Attribution company = new Attribution(
                or(keyAttribution.referer(), gatewayAttribution.referer()),
                or(keyAttribution.title(), gatewayAttribution.title()),
                or(keyAttribution.categories(), gatewayAttribution.categories()));
        boolean clientWins = gatewayAttribution.clientOverride();
        String clientTitle = first(client, X_OPENROUTER_TITLE, X_TITLE);
        String referer = pick(clientWins, first(client, HTTP_REFERER), company.referer());
        String title = pick(clientWins, clientTitle, company.title());
        String categories = pick(clientWins, first(client, X_OPENROUTER_CATEGORIES), company.categories());
        if (referer != null) {
            upstream.set(HTTP_REFERER, referer);
        }
        if (title != null) {
            upstream.set(X_TITLE, title);
            upstream.set(X_OPENROUTER_TITLE, title);
        }
        if (categories != null) {
            upstream.set(X_OPENROUTER_CATEGORIES, categories);
        }
    }

    private static @Nullable String pick(boolean clientWins, @Nullable String client, @Nullable String company) {
        // The company's value wins unless client-override is on; either way a value only one side
        // set is used.
        if (clientWins) {
            return client != null ? client : company;
        }
        return company != null ? company : client;
    }

    private static @Nullable String or(@Nullable String own, @Nullable String otherwise) {
        return own != null && !own.isBlank() ? own : otherwise;
    }

    private static @Nullable String first(HttpHeaders headers, String... names) {
        for (String name : names) {
            String value = headers.getFirst(name);
            if (value != null && !value.isBlank()) {
                return value;
            }
        }
        return null;
    }

    /** The header names a client listed in {@code Connection}: hop-by-hop by declaration. */
    private static Set<String> connectionTokens(HttpHeaders client) {
        List<String> values = client.get(HttpHeaders.CONNECTION);
        if (values == null || values.isEmpty()) {
            return Set.of();
        }
        Set<String> tokens = new HashSet<>();
        for (String value : values) {
            for (String token : value.split(",")) {
                String t = token.strip().toLowerCase(Locale.ROOT);
                if (!t.isEmpty()) {
                    tokens.add(t);
                }
            }
        }
        return tokens;
    }
}
