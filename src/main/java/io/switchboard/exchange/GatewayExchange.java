package io.switchboard.exchange;

import org.jspecify.annotations.Nullable;
import org.springframework.web.server.ServerWebExchange;

/**
 * The typed state of one request, kept under a single exchange attribute. Each part is set once,
 * by the stage that owns it, and read by the stages after it: the request id by the first filter,
 * the caller by authentication, the parsed request by the body filter, the provider by the proxy.
 */
public final class GatewayExchange {

    private static final String ATTRIBUTE = GatewayExchange.class.getName();

    private final String requestId;
    private final @Nullable ProxyEndpoint endpoint;
    private final long startNanos;
    private final long startEpochMillis;
    private volatile @Nullable CallerKey caller;
    private volatile @Nullable ProxyRequest request;
    private volatile @Nullable String provider;
    private volatile boolean failedInBand;
    private volatile boolean clientClosed;

    /**
     * @param endpoint the data-plane operation the path names, resolved once here so that later
     *     filters do not parse the path again; null for every other path
     */
    public GatewayExchange(String requestId, @Nullable ProxyEndpoint endpoint, long startNanos, long startEpochMillis) {
        this.requestId = requestId;
        this.endpoint = endpoint;
        this.startNanos = startNanos;
        this.startEpochMillis = startEpochMillis;
    }

    public static void attach(ServerWebExchange exchange, GatewayExchange state) {
        exchange.getAttributes().put(ATTRIBUTE, state);
    }

    public static @Nullable GatewayExchange find(ServerWebExchange exchange) {
        return exchange.getAttribute(ATTRIBUTE);
    }

    /** The state of an exchange that passed the request-id filter; every data-plane exchange has one. */
    public static GatewayExchange of(ServerWebExchange exchange) {
        GatewayExchange state = find(exchange);
        if (state == null) {
            throw new IllegalStateException("request-id filter did not run");
        }
        return state;
    }

    /** The data-plane operation of this request; null when the path names none. */
    public @Nullable ProxyEndpoint endpoint() {
        return endpoint;
    }

    public String requestId() {
        return requestId;
    }

    public long startNanos() {
        return startNanos;
    }

    public long startEpochMillis() {
        return startEpochMillis;
    }

    public @Nullable CallerKey caller() {
        return caller;
    }

    public void caller(CallerKey caller) {
        this.caller = caller;
    }

    public @Nullable ProxyRequest request() {
        return request;
    }

    public void request(ProxyRequest request) {
        this.request = request;
    }

    public @Nullable String provider() {
        return provider;
    }

    public void provider(String provider) {
        this.provider = provider;
    }

    /**
     * Whether the answer carried the upstream's in-band error (a 200 stream ending in an {@code error}
     * event): a failure whatever its status said, for the metrics as for the ledger.
     */
    public boolean failedInBand() {
        return failedInBand;
    }

    /** Set by the usage capture, which reads the events as they pass, when it sees such an error. */
    public void failedInBand(boolean failed) {
        this.failedInBand = failed;
    }

    /** Whether the relay ended because the client went away (the ledger's {@code client_closed}). */
    public boolean clientClosed() {
        return clientClosed;
    }

    /** Set by the relay when its outcome is that the client went away. */
    public void clientClosed(boolean closed) {
        this.clientClosed = closed;
    }
}
