package io.switchboard.config;

import io.switchboard.errors.GatewayErrorWebExceptionHandler;
import io.switchboard.exchange.CheckpointFreeFilterChain;
import io.switchboard.proxy.ClientSendTimeout;
import io.switchboard.proxy.DecoderRefusals;
import io.switchboard.proxy.ProxyDispatch;
import io.switchboard.proxy.StreamingProperties;
import java.util.ArrayList;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.boot.webflux.autoconfigure.WebHttpHandlerBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.WebFilterChainProxy;
import org.springframework.security.web.server.firewall.HttpStatusExchangeRejectedHandler;
import org.springframework.security.web.server.firewall.ServerExchangeRejectedHandler;
import org.springframework.security.web.server.firewall.ServerWebExchangeFirewall;
import org.springframework.security.web.server.firewall.StrictServerWebExchangeFirewall;
import org.springframework.web.server.WebFilter;

/**
 * How the HTTP server runs the WebFilters: all of them, in their order, as one checkpoint-free
 * chain ending in the data plane's relay ({@link ProxyDispatch}), and Spring Security's own filters
 * the same way; and how its connections treat a client that stops reading.
 */
@Configuration(proxyBeanMethods = false)
class WebPipelineConfiguration {

    @Bean
    NettyServerCustomizer clientSendTimeout(StreamingProperties streaming) {
        return new ClientSendTimeout(streaming.sendTimeout())::installOn;
    }

    @Bean
    NettyServerCustomizer decoderRefusals() {
        return DecoderRefusals::installOn;
    }

    @Bean
    WebHttpHandlerBuilderCustomizer checkpointFreeFilterChain(ProxyDispatch proxy) {
        return builder -> builder.filters(filters -> {
            List<WebFilter> ordered = new ArrayList<>(filters);
            // Last, after every filter: the data plane's relayed calls end here, anything else goes
            // on to Spring's dispatcher. Not a WebFilter bean, so that no filter can sort after it.
            ordered.add(proxy::filter);
            filters.clear();
            filters.add(new CheckpointFreeFilterChain(ordered));
        });
    }

    /**
     * Spring runs each error handler as two operators per request ({@code ExceptionHandlingWebHandler}),
     * and a stream keeps them for its whole life. The gateway's handler answers every error it can
     * (a committed response cannot be answered by any handler), so those ordered after it, Spring
     * WebFlux's status handler, would never run: they are left out.
     */
    @Bean
    WebHttpHandlerBuilderCustomizer onlyTheGatewaysErrorHandler() {
        return builder -> builder.exceptionHandlers(handlers -> {
            for (int i = 0; i < handlers.size(); i++) {
                if (handlers.get(i) instanceof GatewayErrorWebExceptionHandler) {
                    handlers.subList(i + 1, handlers.size()).clear();
                    return;
                }
            }
        });
    }

    /**
     * Spring Security runs the filters of the chain that matched through Spring's own
     * {@code DefaultWebFilterChain}, with a checkpoint around each of them on every request, kept for
     * a stream's whole life; run them without. And it picks that chain with an operator that keeps a
     * 1 KiB buffer per request as long as the exchange lasts; pick it one chain after the other
     * ({@link SequentialSecurityChains}). Only while its observations are off: with them on, Spring's
     * own proxy and observing decorator stay.
     */
    @Bean
    @ConditionalOnProperty(name = "management.observations.enable.spring.security", havingValue = "false")
    static BeanPostProcessor sequentialSecurityChains(
            ObjectProvider<SecurityWebFilterChain> chains,
            ObjectProvider<ServerWebExchangeFirewall> firewall,
            ObjectProvider<ServerExchangeRejectedHandler> rejectedHandler) {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessAfterInitialization(Object bean, String beanName) {
                if (!(bean instanceof WebFilterChainProxy)) {
                    return bean;
                }
                // The same chains in the same order as Spring Security's proxy (ordered by @Order).
                // Spring Security's defaults unless the application defines its own, as its proxy.
                return new SequentialSecurityChains(
                        chains.orderedStream().toList(),
                        firewall.getIfUnique(StrictServerWebExchangeFirewall::new),
                        rejectedHandler.getIfUnique(HttpStatusExchangeRejectedHandler::new),
                        (original, filters) -> CheckpointFreeFilterChain.over(filters, original));
            }
        };
    }
}
