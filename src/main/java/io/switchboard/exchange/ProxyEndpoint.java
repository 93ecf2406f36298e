package io.switchboard.exchange;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.jspecify.annotations.Nullable;
import org.springframework.http.HttpMethod;
import org.springframework.web.util.UriUtils;

/** The data-plane operations, each served at {@code /v1/...} and at OpenRouter's {@code /api/v1/...}. */
public enum ProxyEndpoint {
    CHAT_COMPLETIONS(HttpMethod.POST, "/chat/completions"),
    COMPLETIONS(HttpMethod.POST, "/completions"),
    EMBEDDINGS(HttpMethod.POST, "/embeddings"),
    MODELS(HttpMethod.GET, "/models");

    public static final String V1 = "/v1";
    public static final String API_V1 = "/api/v1";

    /** {@code values()} copies its array on every call; the path lookup runs once per request. */
    private static final ProxyEndpoint[] ALL = values();

    /** Below it, one model's page: {@code /models/{id}}. */
    public static final String ONE_MODEL = MODELS.upstreamPath + "/";

    private final HttpMethod method;
    private final String upstreamPath;
    private final String label;

    ProxyEndpoint(HttpMethod method, String upstreamPath) {
        this.method = method;
        this.upstreamPath = upstreamPath;
        this.label = name().toLowerCase(Locale.ROOT);
    }

    /**
     * The name the usage ledger and the crash journal record, e.g. {@code chat_completions}: one
     * string per endpoint, not one per request (each open stream kept its own copy).
     */
    public String label() {
        return label;
    }

    public HttpMethod method() {
        return method;
    }

    /** The path below the upstream's base URL, e.g. {@code /chat/completions}. */
    public String upstreamPath() {
        return upstreamPath;
    }

    public boolean hasBody() {
        return method == HttpMethod.POST;
    }

    /**
     * The endpoint served at {@code path} (as sent: percent-encoded), whatever the method; null when
     * none is. A model's own page ({@code /v1/models/{id}}) is {@link #MODELS}. Decoded first when it holds an escape, as the routes match the decoded path: {@code
     * /v1/chat/complet%69ons} is routed to the proxy, and was once served there without the
     * endpoint's checks and limits.
     */
    public static @Nullable ProxyEndpoint forPath(String rawPath) {
        String path = rawPath.indexOf('%') < 0 ? rawPath : UriUtils.decode(rawPath, StandardCharsets.UTF_8);
        String rest;
        if (path.startsWith(V1 + "/")) {
            rest = path.substring(V1.length());
        } else if (path.startsWith(API_V1 + "/")) {
            rest = path.substring(API_V1.length());
        } else {
            return null;
        }
        for (ProxyEndpoint endpoint : ALL) {
            if (endpoint.upstreamPath.equals(rest)) {
                return endpoint;
            }
        }
        // One model's page, /v1/models/{id}: the model list's endpoint, with its key's limits.
        return rest.length() > ONE_MODEL.length() && rest.startsWith(ONE_MODEL) ? MODELS : null;
    }
}
