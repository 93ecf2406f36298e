package io.switchboard.config;

import java.util.List;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.WebFilterChainProxy;
import org.springframework.security.web.server.firewall.ServerExchangeRejectedException;
import org.springframework.security.web.server.firewall.ServerExchangeRejectedHandler;
import org.springframework.security.web.server.firewall.ServerWebExchangeFirewall;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Spring Security's chain selection, done the same way (firewall first, the first chain whose matcher
 * matches runs its filters through the decorator, no match goes on without security, a rejected
 * exchange goes to the rejected-exchange handler) but trying the chains one after the other.
 *
 * <p>Why by hand: {@link WebFilterChainProxy} picks the chain with {@code Flux.filterWhen}, whose
 * subscriber keeps a 256-slot array (1 KiB) for every request, and the request's operators keep that
 * subscriber until the exchange ends: for an open stream, about 1.1 KiB of heap for its whole life to
 * choose among three chains. Here the choice is a chain of {@code Mono}s that is let go once made.
 */
final class SequentialSecurityChains extends WebFilterChainProxy {

    private final List<SecurityWebFilterChain> chains;
    private final ServerWebExchangeFirewall firewall;
    private final ServerExchangeRejectedHandler rejectedHandler;
    private final WebFilterChainDecorator decorator;

    /**
     * Everything it uses is given here and kept in its own final fields; the inherited setters would
     * change only the parent's copies, which this class never reads, so they refuse.
     */
    SequentialSecurityChains(
            List<SecurityWebFilterChain> chains,
            ServerWebExchangeFirewall firewall,
            ServerExchangeRejectedHandler rejectedHandler,
            WebFilterChainDecorator decorator) {
        super(chains);
        this.chains = List.copyOf(chains);
        this.firewall = firewall;
        this.rejectedHandler = rejectedHandler;
        this.decorator = decorator;
    }

    @Override
    public void setFirewall(ServerWebExchangeFirewall firewall) {
        throw new UnsupportedOperationException("Give the firewall to the constructor");
    }

    @Override
    public void setExchangeRejectedHandler(ServerExchangeRejectedHandler handler) {
        throw new UnsupportedOperationException("Give the rejected-exchange handler to the constructor");
    }

    @Override
    public void setFilterChainDecorator(WebFilterChainDecorator decorator) {
        throw new UnsupportedOperationException("Give the decorator to the constructor");
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        return firewall.getFirewalledExchange(exchange)
                .flatMap(checked -> filterChecked(checked, chain))
                .onErrorResume(
                        ServerExchangeRejectedException.class,
                        rejected -> rejectedHandler.handle(exchange, rejected).then(Mono.empty()));
    }

    private Mono<Void> filterChecked(ServerWebExchange exchange, WebFilterChain chain) {
        return firstMatch(exchange, 0)
                .flatMap(matched -> matched.getWebFilters().collectList())
                // The choice is made: the flatMap below would keep these operators for the
                // exchange's whole life.
                .onTerminateDetach()
                .map(filters -> decorator.decorate(chain, filters))
                .switchIfEmpty(Mono.defer(
                        () -> decorator.decorate(chain).filter(exchange).then(Mono.empty())))
                .flatMap(secured -> secured.filter(exchange));
    }

    /** The first chain from {@code index} on whose matcher matches; empty when none does. */
    private Mono<SecurityWebFilterChain> firstMatch(ServerWebExchange exchange, int index) {
        if (index == chains.size()) {
            return Mono.empty();
        }
        SecurityWebFilterChain candidate = chains.get(index);
        return candidate
                .matches(exchange)
                .flatMap(matches -> matches ? Mono.just(candidate) : firstMatch(exchange, index + 1));
    }
}
