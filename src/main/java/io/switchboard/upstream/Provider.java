package io.switchboard.upstream;

import io.netty.channel.EventLoop;
import io.switchboard.exchange.ProxyEndpoint;
import java.net.URI;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.util.PatternMatchUtils;
import reactor.netty.http.client.HttpClient;

/**
 * One upstream as the data plane uses it: an immutable snapshot of its configuration plus its HTTP
 * client, built once at start-up. The credential is kept only as the prepared header value.
 */
public final class Provider {

    private final String name;
    private final URI baseUrl;
    private final String basePath;
    private final String origin;
    private final String authorization;
    private final Duration responseTimeout;
    private final Duration idleTimeout;
    private final StreamUsage streamUsage;
    private final String[] modelPatterns;
    private final UpstreamClients clients;
    private final Map<ProxyEndpoint, URI> endpointUris = new EnumMap<>(ProxyEndpoint.class);

    Provider(String name, ProviderProperties props, StreamUsage streamUsage, UpstreamClients clients) {
        this.name = name;
        this.baseUrl = props.baseUrl();
        String path = baseUrl.getRawPath() == null ? "" : baseUrl.getRawPath();
        this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        this.origin = baseUrl.getScheme() + "://" + baseUrl.getRawAuthority();
        this.authorization = props.hasApiKey() ? "Bearer " + props.apiKey().strip() : "";
        this.responseTimeout = props.responseTimeout();
        this.idleTimeout = props.idleTimeout();
        this.streamUsage = streamUsage;
        this.modelPatterns = props.models().toArray(String[]::new);
        this.clients = clients;
        for (ProxyEndpoint endpoint : ProxyEndpoint.values()) {
            endpointUris.put(endpoint, URI.create(uriFor(endpoint.upstreamPath())));
        }
    }

    public String name() {
        return name;
    }

    public URI baseUrl() {
        return baseUrl;
    }

    /** The request path for an operation below the base URL, e.g. {@code /api/v1/chat/completions}. */
    public String pathFor(String operationPath) {
        return basePath + operationPath;
    }

    /** The absolute URI of an operation, e.g. {@code https://openrouter.ai/api/v1/chat/completions}. */
    public String uriFor(String operationPath) {
        return origin + basePath + operationPath;
    }

    /**
     * The absolute URI of a data-plane endpoint, parsed once when the provider is built: Reactor
     * Netty's client parses a URI given as a string with a regular expression on every request (1% of
     * the event loops' CPU in a profile), and takes a {@link URI} apart without one.
     */
    public URI uriOf(ProxyEndpoint endpoint) {
        return endpointUris.get(endpoint);
    }

    /** {@code Bearer <api-key>}, or empty when the provider needs none. Never log it. */
    public String authorization() {
        return authorization;
    }

    /**
     * Sets the provider's credential on a request the gateway makes on its own behalf (the model
     * price listing, generation look-ups), without handing the secret out.
     */
    public void writeCredential(io.netty.handler.codec.http.HttpHeaders headers) {
        if (!authorization.isEmpty()) {
            headers.set(io.netty.handler.codec.http.HttpHeaderNames.AUTHORIZATION, authorization);
        }
    }

    public Duration responseTimeout() {
        return responseTimeout;
    }

    public Duration idleTimeout() {
        return idleTimeout;
    }

    public StreamUsage streamUsage() {
        return streamUsage;
    }

    public boolean serves(String model) {
        return modelPatterns.length == 0 || PatternMatchUtils.simpleMatch(modelPatterns, model);
    }

    boolean isCatchAll() {
        return modelPatterns.length == 0;
    }

    /** The client for the gateway's own calls, made off any client request. */
    public HttpClient httpClient() {
        return clients.shared();
    }

    /**
     * The client for a client request served on {@code loop}: its connections are opened and reused
     * on that loop only (see {@link UpstreamClients}). Null: the shared client.
     */
    public HttpClient httpClientOn(@Nullable EventLoop loop) {
        return clients.on(loop);
    }

    @Override
    public String toString() {
        return "Provider[" + name + " " + baseUrl + "]";
    }
}
