package io.switchboard.config;

import io.switchboard.upstream.AttributionProperties;
import io.switchboard.upstream.ProviderRegistry;
import io.switchboard.upstream.UpstreamProperties;
import io.switchboard.upstream.UpstreamRequestHeaders;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class UpstreamConfiguration {

    @Bean(destroyMethod = "close")
    ProviderRegistry providerRegistry(UpstreamProperties properties) {
        return new ProviderRegistry(properties.providers());
    }

    @Bean
    UpstreamRequestHeaders upstreamRequestHeaders(AttributionProperties attribution) {
        return new UpstreamRequestHeaders(attribution);
    }
}
