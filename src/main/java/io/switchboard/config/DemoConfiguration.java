package io.switchboard.config;

import io.switchboard.demo.DemoEnabledCondition;
import io.switchboard.demo.DemoProperties;
import io.switchboard.demo.DemoUpstreamServer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;

/** Starts the offline demo upstream when {@link DemoEnabledCondition} says so; the registry then lists it. */
@Configuration(proxyBeanMethods = false)
class DemoConfiguration {

    @Bean(destroyMethod = "close")
    @Conditional(DemoEnabledCondition.class)
    DemoUpstreamServer demoUpstreamServer(DemoProperties properties) {
        return DemoUpstreamServer.start(properties);
    }
}
