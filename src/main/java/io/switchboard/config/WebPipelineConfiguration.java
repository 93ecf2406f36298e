package io.switchboard.config;

import io.switchboard.exchange.CheckpointFreeFilterChain;
import java.util.List;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.webflux.autoconfigure.WebHttpHandlerBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.web.server.WebFilterChainProxy;
import org.springframework.web.server.WebFilter;

/**
 * How the HTTP server runs the WebFilters: all of them, in their order, as one checkpoint-free
 * chain, and Spring Security's own filters the same way.
 */
@Configuration(proxyBeanMethods = false)
class WebPipelineConfiguration {

    @Bean
    WebHttpHandlerBuilderCustomizer checkpointFreeFilterChain() {
        return builder -> builder.filters(filters -> {
            if (filters.size() > 1) {
                List<WebFilter> ordered = List.copyOf(filters);
                filters.clear();
                filters.add(new CheckpointFreeFilterChain(ordered));
            }
        });
    }

    /**
     * Spring Security runs the filters of the chain that matched through Spring's own
     * {@code DefaultWebFilterChain}, with a checkpoint around each of them on every request, kept for
     * a stream's whole life; run them without. Only while its observations are off: with them on,
     * Spring's observing decorator stays.
     */
    @Bean
    @ConditionalOnProperty(name = "management.observations.enable.spring.security", havingValue = "false")
    static BeanPostProcessor checkpointFreeSecurityChains() {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessAfterInitialization(Object bean, String beanName) {
                if (bean instanceof WebFilterChainProxy proxy) {
                    proxy.setFilterChainDecorator(
                            (original, filters) -> CheckpointFreeFilterChain.over(filters, original));
                }
                return bean;
            }
        };
    }
}
