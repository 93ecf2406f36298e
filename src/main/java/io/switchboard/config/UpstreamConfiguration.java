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
import org.springframework.http.client.ReactorResourceFactory;

@Configuration(proxyBeanMethods = false)
class UpstreamConfiguration {

    /**
     * Event loops owned by this application context rather than Reactor Netty's global ones: the
     * server and the upstream clients share them (an upstream connection is served on the loop of
     * the client's request), and closing one context never tears down another's loops (several
     * gateways in one JVM, as the tests run them).
     */
    @Bean
    ReactorResourceFactory reactorResourceFactory() {
        ReactorResourceFactory factory = new ReactorResourceFactory();
        factory.setUseGlobalResources(false);
        return factory;
    }

    /**
     * The configured providers, plus the demo upstream when it runs: it is a bean created first, so
     * its loopback port is known here and the registry never changes after start.
     */
    @Bean(destroyMethod = "close")
    ProviderRegistry providerRegistry(
            UpstreamProperties properties, ObjectProvider<DemoUpstreamServer> demo, ReactorResourceFactory resources) {
        Map<String, ProviderProperties> providers = new LinkedHashMap<>(properties.providers());
        demo.ifAvailable(server -> providers.put(DemoUpstreamServer.PROVIDER_NAME, server.providerProperties()));
        return new ProviderRegistry(providers, resources.getLoopResources());
    }

    @Bean
    UpstreamRequestHeaders upstreamRequestHeaders(AttributionProperties attribution) {
        return new UpstreamRequestHeaders(attribution);
    }
}
