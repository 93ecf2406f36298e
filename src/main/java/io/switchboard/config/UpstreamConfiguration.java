package io.switchboard.config;

import io.switchboard.demo.DemoUpstreamServer;
import io.switchboard.upstream.AttributionProperties;
import io.switchboard.upstream.ProviderProperties;
import io.switchboard.upstream.ProviderRegistry;
import io.switchboard.upstream.UpstreamProperties;
import io.switchboard.upstream.UpstreamRequestHeaders;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class UpstreamConfiguration {

    /**
     * The configured providers, plus the demo upstream when it runs: it is a bean created first, so
     * its loopback port is known here and the registry never changes after start.
     */
    @Bean(destroyMethod = "close")
    ProviderRegistry providerRegistry(UpstreamProperties properties, ObjectProvider<DemoUpstreamServer> demo) {
        Map<String, ProviderProperties> providers = new LinkedHashMap<>(properties.providers());
        demo.ifAvailable(server -> providers.put(DemoUpstreamServer.PROVIDER_NAME, server.providerProperties()));
        return new ProviderRegistry(providers);
    }

    @Bean
    UpstreamRequestHeaders upstreamRequestHeaders(AttributionProperties attribution) {
        return new UpstreamRequestHeaders(attribution);
    }
}
