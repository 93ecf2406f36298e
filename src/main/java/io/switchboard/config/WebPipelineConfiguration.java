package io.switchboard.config;

import io.switchboard.exchange.CheckpointFreeFilterChain;
import java.util.List;
import org.springframework.boot.webflux.autoconfigure.WebHttpHandlerBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.server.WebFilter;

/** How the HTTP server runs the WebFilters: all of them, in their order, as one checkpoint-free chain. */
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
}
