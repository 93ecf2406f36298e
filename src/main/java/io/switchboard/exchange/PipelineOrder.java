package io.switchboard.exchange;

/**
 * The order of the data plane's WebFilters: the journey of one request, in one place.
 *
 * <ol>
 *   <li>{@link #REQUEST_ID}: every response, errors included, carries an {@code X-Request-Id}.
 *   <li>{@link #SECURITY}: Spring Security's chain (fixed by Spring at -100) finds the caller's key;
 *       no body is read for a caller we do not know.
 *   <li>{@link #RATE_LIMIT_HEADERS}: every answer to a known key carries its {@code x-ratelimit-*}
 *       headers, refusals of the stages below included.
 *   <li>{@link #REQUEST_BODY}: the bounded body is read and parsed once, the model rewritten.
 *   <li>{@link #MODEL_ACCESS}: the rewritten model must be one the key may use (403).
 *   <li>{@link #RATE_LIMIT} then {@link #BUDGET}: admission (429, 402), with reservations released
 *       when the exchange ends however it ends.
 *   <li>the proxy handler relays to the upstream; {@link ExchangeObserver}s (usage, metrics) watch
 *       the relay.
 * </ol>
 */
public final class PipelineOrder {

    public static final int REQUEST_ID = -500;
    /** Spring Security's {@code WebFilterChainProxy} order, here for reference only. */
    public static final int SECURITY = -100;

    public static final int RATE_LIMIT_HEADERS = -60;
    public static final int REQUEST_BODY = -50;
    public static final int MODEL_ACCESS = -40;
    public static final int RATE_LIMIT = -30;
    public static final int BUDGET = -20;

    private PipelineOrder() {}
}
