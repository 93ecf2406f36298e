package io.switchboard.exchange;

import java.util.List;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * The application's WebFilters, run in their order as one WebFilter, the way Spring's
 * {@code DefaultWebFilterChain} runs them (each filter deferred until subscription) but without the
 * Reactor checkpoint Spring adds around every filter on every request.
 *
 * <p>Why by hand: that checkpoint costs, per filter and request, an assembly operator, its snapshot
 * and a subscriber that every signal of the exchange then passes through; the gateway runs about ten
 * filters, and a stream keeps those objects for its whole life. Spring offers no switch for it. What
 * is lost is only a line per filter in the "assembly trace" of an error's stack trace; the filter
 * names remain in the stack frames themselves.
 */
public final class CheckpointFreeFilterChain implements WebFilter {

    private final List<WebFilter> filters;

    public CheckpointFreeFilterChain(List<WebFilter> filters) {
        this.filters = List.copyOf(filters);
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain handler) {
        return new Link(filters, 0, handler).filter(exchange);
    }

    /**
     * The same checkpoint-free chain over {@code filters}, ending in {@code handler}: for the chains
     * Spring Security builds per request for its own filters (a fresh list each time, so not copied).
     */
    public static WebFilterChain over(List<WebFilter> filters, WebFilterChain handler) {
        return new Link(filters, 0, handler);
    }

    /** A constant: Spring's own chain labels its one remaining checkpoint with it. */
    @Override
    public String toString() {
        return "CheckpointFreeFilterChain";
    }

    private record Link(List<WebFilter> filters, int index, WebFilterChain handler) implements WebFilterChain {

        @Override
        public Mono<Void> filter(ServerWebExchange exchange) {
            return Mono.defer(() -> index == filters.size()
                    ? handler.filter(exchange)
                    : filters.get(index).filter(exchange, new Link(filters, index + 1, handler)));
        }
    }
}
